// Sends identify, track, page, screen, group and alias with Segment's official Node client.
// usage: node send_events.js <host> <writeKey> <trackTimestampISO>
// stdout: {"messageIds": [...], "statuses": [...]}; exit status 1 if any request failed.
const { Analytics } = require('@segment/analytics-node');

async function main() {
  const [host, writeKey, trackTimestamp] = process.argv.slice(2);
  const analytics = new Analytics({ writeKey, host, flushAt: 20, flushInterval: 200, maxRetries: 1 });
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

  const userId = 'node-user';
  analytics.identify({ userId, traits: { plan: 'pro' } });
  analytics.track({ userId, event: 'Order Completed', properties: { revenue: 10 }, timestamp: new Date(trackTimestamp) });
  analytics.page({ userId, category: 'Docs', name: 'Install' });
  analytics.screen({ userId, name: 'Home' });
  analytics.group({ userId, groupId: 'group-1', traits: { name: 'Acme' } });
  analytics.alias({ userId: 'node-user-2', previousId: userId });
  await analytics.closeAndFlush({ timeout: 20000 });

  if (statuses.some((status) => status !== 200)) process.exitCode = 1;
  console.log(JSON.stringify({ messageIds, statuses }));
}

main();
