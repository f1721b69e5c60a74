// The API reference page: Swagger UI (vendored) reading the portal's own OpenAPI document.
(function () {
  "use strict";
  var node = document.getElementById("api-reference");
  window.SwaggerUIBundle({
    url: node.getAttribute("data-spec-url"),
    domNode: node,
    deepLinking: true,
    tryItOutEnabled: false,
    validatorUrl: null,
  });
})();
