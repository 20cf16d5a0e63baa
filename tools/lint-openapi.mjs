// Checks docs/openapi.json against the OpenAPI 3.1 schema and resolves every
// $ref (@apidevtools/swagger-parser, pinned in package-lock.json).
// usage: node tools/lint-openapi.mjs [path]   exit 0 when valid
import SwaggerParser from '@apidevtools/swagger-parser';

const path = process.argv[2] || 'docs/openapi.json';
try {
  const api = await SwaggerParser.validate(path);
  const ops = Object.values(api.paths).reduce((n, p) => n + Object.keys(p).length, 0);
  console.log(`${path}: valid OpenAPI ${api.openapi}, ${Object.keys(api.paths).length} paths, ${ops} operations`);
} catch (err) {
  console.error(`${path}: ${err.message}`);
  process.exit(1);
}
