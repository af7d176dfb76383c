"""The partnership's web pages: server-rendered (Jinja2), accessible, working without JavaScript;
charts and maps drawn by the report's Plotly figure builders with plotly.js served from
``/static`` (never a CDN), so the app works offline."""
