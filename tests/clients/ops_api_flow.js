// Reads a live Segapp's audit trail, Delivery Overview and events volume through Segment's official
// Public API client, using only the SDK's own methods, after one configuration change made with it.
// Usage: node ops_api_flow.js <base URL> <token> <sourceId> <destinationId> <startTime> <endTime>
// Prints one JSON summary on stdout for the pytest test to check.
const { sdk, connect, isHttpError, refusal: refused } = require('./sdk_client');

const [baseUrl, token, sourceId, destinationId, startTime, endTime] = process.argv.slice(2);
const client = connect(baseUrl, token);

const destinations = client(sdk.DestinationsApi);
const auditTrail = client(sdk.AuditTrailApi);
const overview = client(sdk.DeliveryOverviewApi);
const events = client(sdk.EventsApi);

// Only the status and the field named are checked here.
async function refusal(call) {
  const { status, field } = await refused(call);
  return { status, field };
}

const byReason = (data) => Object.fromEntries(data.dataset.map((d) => [d.discardReason, d.total]));

async function main() {
  const summary = {};
  await destinations.updateDestination(destinationId, { name: 'Ops hook' });

  // The audit trail: newest first, a page at a time, and filtered by resource.
  const firstPage = (await auditTrail.listAuditEvents({ count: 1 })).body.data;
  const [newest] = firstPage.events;
  const secondPage = (await auditTrail.listAuditEvents({ count: 1, cursor: firstPage.pagination.next })).body.data;
  const forHook = (await auditTrail.listAuditEvents({ count: 100 }, startTime, undefined, destinationId, 'Destination')).body.data;
  summary.audit = {
    newest: { type: newest.type, resourceId: newest.resourceId, resourceName: newest.resourceName, resourceType: newest.resourceType, actor: newest.actor },
    secondIsOlder: secondPage.events[0].timestamp <= newest.timestamp && secondPage.events[0].id !== newest.id,
    forHook: forHook.events.map((e) => e.type),
  };

  // Delivery Overview: each stage, hourly, for the source and the hook.
  const page = { count: 10 };
  const ingest = async (method, groupBy) => (await overview[method](sourceId, startTime, endTime, 'hour', page, groupBy)).body.data;
  const egress = async (method, groupBy) => (await overview[method](sourceId, destinationId, startTime, endTime, 'hour', page, groupBy)).body.data;
  const delivered = await egress('getEgressSuccessMetricsFromDeliveryOverview');
  summary.overview = {
    received: (await ingest('getIngressSuccessMetricsFromDeliveryOverview')).total,
    failedOnIngest: (await ingest('getIngressFailedMetricsFromDeliveryOverview')).total,
    filteredAtSource: byReason(await ingest('getFilteredAtSourceMetricsFromDeliveryOverview', ['discardReason'])),
    filteredAtDestination: byReason(await egress('getFilteredAtDestinationMetricsFromDeliveryOverview', ['discardReason'])),
    failed: (await egress('getEgressFailedMetricsFromDeliveryOverview')).total,
    delivered: delivered.total,
    deliveredSeries: delivered.dataset[0].series.reduce((sum, point) => sum + point.count, 0),
    byEventName: await refusal(() => egress('getEgressSuccessMetricsFromDeliveryOverview', ['eventName'])),
  };

  // Events volume: by event name (from the archive) and by source (from the counters).
  const byName = (await events.getEventsVolumeFromWorkspace('HOUR', startTime, endTime, ['eventName'], [sourceId])).body.data;
  const bySource = (await events.getEventsVolumeFromWorkspace('HOUR', startTime, endTime, ['source'])).body.data;
  summary.volume = {
    byName: Object.fromEntries(byName.result.map((r) => [r.eventName, r.total])),
    bySource: bySource.result.map((r) => ({ id: r.source.id, total: r.total })),
    appVersion: await refusal(() => events.getEventsVolumeFromWorkspace('HOUR', startTime, endTime, undefined, undefined, undefined, undefined, ['1.0'])),
  };
  console.log(JSON.stringify(summary));
}

main().catch((error) => {
  console.error(isHttpError(error) ? JSON.stringify({ status: error.statusCode, body: error.body }) : error);
  process.exit(1);
});
