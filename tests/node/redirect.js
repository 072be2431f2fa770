// Twilio's Node SDK pointed at fleetsim: a RequestClient that rewrites every request's
// host to FLEETSIM_URL (the recipe in the README).
"use strict";
const twilio = require("twilio");

class RedirectRequestClient extends twilio.RequestClient {
  constructor(baseUrl, opts) {
    super(opts);
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  request(opts) {
    return super.request({ ...opts, uri: opts.uri.replace(/^https?:\/\/[^/]+/, this.baseUrl) });
  }
}

function fleetsimClient(baseUrl, accountSid, authToken) {
  return twilio(accountSid, authToken, { httpClient: new RedirectRequestClient(baseUrl) });
}

module.exports = { RedirectRequestClient, fleetsimClient };
