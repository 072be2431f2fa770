// A small scenario with twilio-node against a live fleetsim; prints what happened as JSON.
// Environment: FLEETSIM_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN.
"use strict";
const { fleetsimClient } = require("./redirect");

async function main() {
  const env = process.env;
  const client = fleetsimClient(env.FLEETSIM_URL, env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN);
  const v1 = client.supersim.v1;
  const [network] = await v1.networks.list({ isoCountry: "US", limit: 1 });
  const profile = await v1.networkAccessProfiles.create({
    uniqueName: "node-profile",
    networks: [network.sid],
  });
  const created = [];
  for (const name of ["node-a", "node-b", "node-c"]) {
    const fleet = await v1.fleets.create({ networkAccessProfile: profile.sid, uniqueName: name });
    created.push(fleet.sid);
  }
  const listed = await v1.fleets.list({ pageSize: 2 });
  const firstPage = await v1.fleets.page({ pageSize: 2 });
  let error = null;
  try {
    await v1.fleets("HF" + "0".repeat(32)).fetch();
  } catch (caught) {
    error = { status: caught.status, code: caught.code, message: caught.message };
  }
  const out = {
    created,
    listed: listed.map((fleet) => fleet.sid),
    first_page: firstPage.instances.length,
    next_page_url: firstPage.nextPageUrl,
    error,
  };
  process.stdout.write(JSON.stringify(out));
}

main().catch((exc) => {
  console.error(exc);
  process.exit(1);
});
