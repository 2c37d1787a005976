/* alertrouter web UI (web/app.js). */
