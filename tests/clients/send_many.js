// Sends <count> track calls with Segment's official Node client.
// usage: node send_many.js <host> <writeKey> <count>
// stdout: {"messageIds": [...], "statuses": [...]}; exit status 1 if any request failed.
const { Analytics } = require('@segment/analytics-node');

async function main() {
  const [host, writeKey, count] = process.argv.slice(2);
  const analytics = new Analytics({ writeKey, host, flushAt: 100, flushInterval: 200, maxRetries: 3 });
  const messageIds = [];
  const statuses = [];
  analytics.on('http_request', (request) => {
    for (const event of JSON.parse(request.body).batch) messageIds.push(event.messageId);
  });
  analytics.on('http_response', (response) => statuses.push(response.status));
  analytics.on('error', (error) => {
    console.error(error);
    process.exitCode = 1;
  });
  for (let n = 0; n < Number(count); n++) {
    analytics.track({ userId: `node-${n}`, event: 'Node Event', properties: { n } });
  }
  await analytics.closeAndFlush({ timeout: 30000 });
  if (statuses.some((status) => status !== 200)) process.exitCode = 1;
  console.log(JSON.stringify({ messageIds, statuses }));
}

main();
