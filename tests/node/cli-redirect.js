// Preloaded into twilio-cli (NODE_OPTIONS="--require ./cli-redirect.js"): every request the
// CLI makes goes to FLEETSIM_URL. twilio-cli has no host setting; this wraps `request` of
// its HTTP client, an internal file of @twilio/cli-core (pinned in package-lock.json).
"use strict";
const path = require("path");

const base = (process.env.FLEETSIM_URL || "").replace(/\/+$/, "");
if (!base) throw new Error("cli-redirect.js: set FLEETSIM_URL to the fleetsim server's URL");
const file = require.resolve("@twilio/cli-core/src/services/cli-http-client.js", {
  paths: [__dirname, path.join(__dirname, "node_modules", "twilio-cli")],
});
const CliRequestClient = require(file);
const original = CliRequestClient.prototype.request;
CliRequestClient.prototype.request = function request(opts) {
  return original.call(this, { ...opts, uri: opts.uri.replace(/^https?:\/\/[^/]+/, base) });
};
