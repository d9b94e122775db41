// Starts Swagger UI on this service's own document. It is a file of its own rather
// than an inline script so that the page's Content-Security-Policy can refuse inline
// scripts altogether.
"use strict";

// The standalone layout's top bar offers to load any other document by URL; this page
// documents one API only, so the bar is left out.
function HideTopbar() {
  return { components: { Topbar: function () { return null; } } };
}

window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  displayRequestDuration: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  plugins: [SwaggerUIBundle.plugins.DownloadUrl, HideTopbar],
  layout: "StandaloneLayout",
  // The default sends the document to validator.swagger.io for a badge; this page
  // talks to nobody but this service.
  validatorUrl: null,
});
