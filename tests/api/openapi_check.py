"""Checks replies against docs/openapi.json: helpers.Client calls
check_response() for every reply it receives, so the whole black-box suite
proves the document right about what the server sends.

For a reply with a JSON body: the request path is matched to the document's
path templates (literal paths before templated ones, as the router does; a
trailing slash does not matter), the response object is picked by status
(else `default`), and the body is validated against its `application/json`
schema with Debian's python3-jsonschema (Draft 2020-12, the dialect of
OpenAPI 3.1). A path or method the document does not have must answer the
`{detail}` error (404, 405). Not checked: replies without a JSON body (the
bytes of a download, HEAD, 304), OPTIONS preflights, streamed replies (the
test reads them itself), and a documented status whose content is not JSON
(a downloaded .json file). Validators are compiled once per (path, method,
status). A JSON array longer than SAMPLE items is checked on its first and
last SAMPLE/2 items (the listing tests of 10,000 items stay fast)."""
import json
import os
import re
import threading

import jsonschema

DOC_PATH = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "openapi.json"))
SAMPLE = 400
# Every mismatch is also kept here: conftest.py fails the test at teardown
# even when the AssertionError was swallowed (a request made on a thread).
MISMATCHES = []

with open(DOC_PATH, encoding="utf-8") as _f:
    DOC = json.load(_f)

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _template_regex(path):
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")


# (number of {params}, regex, template): literal paths first, like the router.
_TEMPLATES = sorted(((p.count("{"), _template_regex(p), p) for p in DOC["paths"]),
                    key=lambda t: (t[0], t[2]))
_cache = {}
_lock = threading.Lock()


def match_path(path):
    """The document's path template for a request path, or None."""
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    for _n, rx, tpl in _TEMPLATES:
        if rx.match(path):
            return tpl
    return None


def _deref(obj):
    while isinstance(obj, dict) and "$ref" in obj:
        node = DOC
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def _compile(schema):
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "allOf": [schema],
            "components": DOC["components"]}
    return jsonschema.Draft202012Validator(root)


_ERROR = None


def _error_validator():
    global _ERROR
    if _ERROR is None:
        _ERROR = _compile({"$ref": "#/components/schemas/Error"})
    return _ERROR


def validator_for(method, path, status):
    """(validator or None, what it checks) for a reply; None: nothing to check.
    Raises AssertionError when the document has no answer for that status."""
    tpl = match_path(path)
    key = (tpl, method, status)
    with _lock:
        if key in _cache:
            return _cache[key]
    if tpl is None or method not in DOC["paths"][tpl]:
        found = (_error_validator(), f"{method.upper()} {path} (not in the document) -> {status}: Error")
    else:
        responses = DOC["paths"][tpl][method]["responses"]
        resp = responses.get(str(status)) or responses.get("default")
        if resp is None:
            _fail(f"openapi: {method.upper()} {tpl} has no response {status} nor default")
        content = _deref(resp).get("content") or {}
        media = content.get("application/json")
        where = f"{method.upper()} {tpl} -> {status if str(status) in responses else 'default'}"
        found = (_compile(media["schema"]), where) if media else (None, where)
    with _lock:
        _cache[key] = found
    return found


def _sampled(body):
    if isinstance(body, list) and len(body) > SAMPLE:
        return body[:SAMPLE // 2] + body[-(SAMPLE // 2):]
    return body


def _fail(message):
    with _lock:
        MISMATCHES.append(message)
    raise AssertionError(message)


def check_response(method, path, response, streamed=False):
    """Validates one requests.Response; raises AssertionError on a mismatch."""
    method = method.lower()
    if streamed or method in ("head", "options") or method not in _METHODS:
        return
    ctype = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if not (ctype == "application/json" or ctype.endswith("+json")) or not response.content:
        return
    if response.status_code in (101, 304):
        return
    validator, where = validator_for(method, path, response.status_code)
    if validator is None:
        return
    try:
        body = json.loads(response.content)
    except ValueError as e:
        _fail(f"openapi: {where}: the reply says JSON but is not ({e}): {response.content[:200]!r}")
    err = jsonschema.exceptions.best_match(validator.iter_errors(_sampled(body)))
    if err is not None:
        at = "/".join(str(p) for p in err.absolute_path)
        _fail(f"openapi: {where}: reply does not match the document at /{at}: "
              f"{err.message}\nbody: {response.content[:600]!r}")
