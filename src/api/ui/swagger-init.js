/* /docs: starts Swagger UI on the server's own /openapi.json. A file of its
 * own, not an inline script, so the page's Content-Security-Policy can say
 * script-src 'self'. No validator badge (it would load from another host). */
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout'
  });
});
