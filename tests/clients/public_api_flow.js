// Drives a live Segapp through Segment's official Public API client, @segment/public-api-sdk-typescript,
// using only the SDK's own methods. Usage: node public_api_flow.js <base URL> <token>
// (basePath = <base URL>/api). Prints one JSON summary on stdout for the pytest test to check.
const { sdk, connect, isHttpError, refusal } = require('./sdk_client');

const [baseUrl, token] = process.argv.slice(2);
const client = connect(baseUrl, token);

const workspaces = client(sdk.WorkspacesApi);
const catalog = client(sdk.CatalogApi);
const sources = client(sdk.SourcesApi);
const destinations = client(sdk.DestinationsApi);
const filters = client(sdk.DestinationFiltersApi);


// Every page of a paginated SDK method: fetch(pagination) → {items, pagination}.
async function allPages(fetch, count) {
  const items = [];
  let cursor;
  let pages = 0;
  for (;;) {
    const { items: page, pagination } = await fetch(cursor ? { count, cursor } : { count });
    items.push(...page);
    pages += 1;
    if (!pagination.next) return { items, pages, totalEntries: pagination.totalEntries };
    cursor = pagination.next;
  }
}

async function main() {
  const summary = {};
  const workspace = (await workspaces.getWorkspace()).body.data.workspace;
  summary.workspace = workspace.slug;

  const destinationCatalog = await allPages(async (pagination) => {
    const data = (await catalog.getDestinationsCatalog(pagination)).body.data;
    return { items: data.destinationsCatalog, pagination: data.pagination };
  }, 10);
  summary.catalog = {
    destinations: destinationCatalog.items.length,
    totalEntries: destinationCatalog.totalEntries,
    pages: destinationCatalog.pages,
  };
  const webhooks = destinationCatalog.items.find((entry) => entry.slug === 'webhooks');
  const sourceCatalog = (await catalog.getSourcesCatalog({ count: 200 })).body.data.sourcesCatalog;
  const javascript = sourceCatalog.find((entry) => entry.slug === 'javascript');

  const created = (await sources.createSource({ slug: 'sdk-site', enabled: true, metadataId: javascript.id })).body.data.source;
  const fetched = (await sources.getSource(created.id)).body.data;
  summary.source = { id: created.id, name: created.name, slug: created.slug, writeKeys: fetched.source.writeKeys, trackingPlanId: fetched.trackingPlanId };
  const rotated = (await sources.createWriteKeyForSource(created.id)).body.data.source.writeKeys;
  await sources.removeWriteKeyFromSource(created.id, rotated[0]);
  summary.source.rotatedWriteKeys = (await sources.getSource(created.id)).body.data.source.writeKeys;

  const settings = { webhookUrls: [`${baseUrl}/hook-sink`], sharedSecret: 'sdk-secret' };
  const hook = (await destinations.createDestination({ sourceId: created.id, metadataId: webhooks.id, settings })).body.data.destination;
  const renamed = (await destinations.updateDestination(hook.id, { name: 'Primary hook' })).body.data.destination;
  const enabled = (await destinations.updateDestination(hook.id, { enabled: true })).body.data.destination;
  summary.first = {
    id: hook.id, createdName: hook.name, createdEnabled: hook.enabled, renamed: renamed.name,
    enabled: enabled.enabled, sharedSecret: enabled.settings.sharedSecret,
  };
  summary.duplicateName = await refusal(() => destinations.createDestination(
    { sourceId: created.id, metadataId: webhooks.id, name: 'primary HOOK', settings }));

  for (let n = 2; n <= 25; n += 1) {
    await destinations.createDestination({ sourceId: created.id, metadataId: webhooks.id, name: `Hook ${n}`, settings });
  }
  summary.twentySixth = await refusal(() => destinations.createDestination(
    { sourceId: created.id, metadataId: webhooks.id, name: 'Hook 26', settings }));

  const connected = await allPages(async (pagination) => {
    const data = (await sources.listConnectedDestinationsFromSource(created.id, pagination)).body.data;
    return { items: data.destinations, pagination: data.pagination };
  }, 10);
  summary.connected = { count: connected.items.length, pages: connected.pages };

  const filter = (await filters.createFilterForDestination(hook.id, {
    sourceId: created.id, if: "event = 'Test'", actions: [{ type: 'DROP' }], title: 'No tests', enabled: true,
  })).body.data.filter;
  await filters.updateFilterForDestination(hook.id, filter.id, { title: 'No test events' });
  const listedFilters = (await filters.listFiltersFromDestination(hook.id, { count: 10 })).body.data.filters;
  const fetchedFilter = (await filters.getFilterInDestination(hook.id, filter.id)).body.data.filter;
  const preview = (await filters.previewDestinationFilter({
    filter: { if: 'properties.total > 10', actions: [{ type: 'DROP_PROPERTIES', fields: { properties: ['email'] } }] },
    payload: { type: 'track', event: 'Order', properties: { total: 11, email: 'e@example.com' } },
  })).body.data;
  summary.filters = {
    listed: listedFilters.map((f) => f.title), fetchedIf: fetchedFilter.if, previewResult: preview.result,
    invalid: await refusal(() => filters.createFilterForDestination(hook.id, {
      sourceId: created.id, if: "event = = 'x'", actions: [{ type: 'DROP' }], title: 'Broken', enabled: true })),
    removed: (await filters.removeFilterFromDestination(hook.id, filter.id)).body.data.status,
  };
  const deliveryMetrics = (await destinations.listDeliveryMetricsSummaryFromDestination(hook.id, created.id)).body.data;
  summary.deliveryMetrics = deliveryMetrics.deliveryMetricsSummary.metrics.map((m) => m.metricName);

  await destinations.deleteDestination(hook.id);
  summary.afterDelete = (await destinations.createDestination(
    { sourceId: created.id, metadataId: webhooks.id, name: 'Hook 26', settings })).body.data.destination.name;
  summary.listed = (await destinations.listDestinations({ count: 100 })).body.data.pagination.totalEntries;
  summary.deletedSource = (await sources.deleteSource(created.id)).body.data.status;
  summary.missingSource = await refusal(() => sources.getSource(created.id));
  console.log(JSON.stringify(summary));
}

main().catch((error) => {
  console.error(isHttpError(error) ? JSON.stringify({ status: error.statusCode, body: error.body }) : error);
  process.exit(1);
});
