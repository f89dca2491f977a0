// Manages a live Segapp's warehouses through Segment's official Public API client, with only the
// SDK's own methods (WarehousesApi, SelectiveSyncApi, SourcesApi) but for Segapp's "sync now".
// Usage:
//   node warehouses_api_flow.js connect <base URL> <token> <free token> <settings JSON> <postgresId> <snowflakeId> <sourceId>
//   node warehouses_api_flow.js inspect <base URL> <token> <warehouseId> <sourceId>
// "connect" adds a warehouse and starts its first sync; the test then runs the sync as a worker
// would, and "inspect" reads the sync history, changes selective sync and the schedule, and
// removes everything. Each prints one JSON summary on stdout for the pytest test to check.
const { sdk, connect, refusal } = require('./sdk_client');

const [phase, baseUrl, token, ...args] = process.argv.slice(2);
const client = connect(baseUrl, token);
const warehouses = client(sdk.WarehousesApi);
const selectiveSync = client(sdk.SelectiveSyncApi);
const sources = client(sdk.SourcesApi);
const page = { count: 10 };

// Every answer is checked against the SDK's model as the SDK itself deserialized it: a field the
// server left out (or misspelled) is undefined here.
function fields(model, value) {
  const missing = sdk[model].getAttributeTypeMap()
    .filter((attr) => value[attr.name] === undefined)
    .map((attr) => attr.name);
  return missing.length ? { model, missing } : 'ok';
}

async function connectPhase(freeToken, settingsJson, postgresId, snowflakeId, sourceId) {
  const settings = JSON.parse(settingsJson);
  const summary = {};
  const validate = async (changes) => (await warehouses.createValidationInWarehouse({ metadataId: postgresId, settings: { ...settings, ...changes } })).body.data.status;
  summary.validation = { good: await validate({}), closedPort: await validate({ port: 9 }) };
  summary.snowflake = await refusal(() => warehouses.createWarehouse({ metadataId: snowflakeId, settings }));

  const created = (await warehouses.createWarehouse({ metadataId: postgresId, name: 'Analytics', settings })).body.data.warehouse;
  summary.created = { id: created.id, name: created.settings.name, password: created.settings.password, shape: fields('WarehouseV1', created), metadata: created.metadata.slug };
  summary.connectionState = (await warehouses.getConnectionStateFromWarehouse(created.id)).body.data.connectionState;
  summary.added = (await warehouses.addConnectionFromSourceToWarehouse(created.id, sourceId)).body.data.status;
  summary.addedTwice = await refusal(() => warehouses.addConnectionFromSourceToWarehouse(created.id, sourceId));
  const connectedSources = (await warehouses.listConnectedSourcesFromWarehouse(created.id, page)).body.data;
  summary.connectedSources = { ids: connectedSources.sources.map((s) => s.id), shape: fields('SourceV1', connectedSources.sources[0]), total: connectedSources.pagination.totalEntries };
  const connectedWarehouses = (await sources.listConnectedWarehousesFromSource(sourceId, page)).body.data;
  summary.connectedWarehouses = connectedWarehouses.warehouses.map((w) => w.id);
  const listed = (await warehouses.listWarehouses(page)).body.data;
  summary.listed = { ids: listed.warehouses.map((w) => w.id), total: listed.pagination.totalEntries };

  // Free and Team workspaces have one warehouse; the plan's Business features are refused.
  const free = connect(baseUrl, freeToken);
  const freeWarehouses = free(sdk.WarehousesApi);
  const freeSync = free(sdk.SelectiveSyncApi);
  const first = (await freeWarehouses.createWarehouse({ metadataId: postgresId, settings })).body.data.warehouse;
  summary.free = {
    second: await refusal(() => freeWarehouses.createWarehouse({ metadataId: postgresId, settings })),
    schedule: await refusal(() => freeSync.replaceAdvancedSyncScheduleForWarehouse(first.id, { enabled: true, schedule: { times: [{ hourOfDay: 3, enabled: true }], timezone: 'UTC' } })),
    selectiveSync: await refusal(() => freeSync.updateSelectiveSyncForWarehouse(first.id, { syncOverrides: [] })),
  };

  // Beyond Segment, so not in the SDK: sync now.
  const response = await fetch(`${baseUrl}/api/warehouses/${created.id}/syncs`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
  const started = (await response.json()).data.reports;
  summary.started = { status: response.status, reports: started.map((r) => ({ sourceId: r.sourceId, status: r.status })) };
  return summary;
}

async function inspectPhase(warehouseId, sourceId) {
  const summary = {};
  const syncs = (await selectiveSync.listSyncsFromWarehouse(warehouseId, page)).body.data;
  const [report] = syncs.reports;
  summary.syncs = { total: syncs.pagination.totalEntries, status: report.status, count: report.count, notices: report.notices, shape: fields('SyncV1', report), ended: report.end !== null };
  const forSource = (await selectiveSync.listSyncsFromWarehouseAndSource(warehouseId, sourceId, page)).body.data;
  summary.sourceSyncCounts = forSource.reports.map((r) => r.count);

  const items = async () => (await selectiveSync.listSelectiveSyncsFromWarehouseAndSource(warehouseId, sourceId, page)).body.data.items;
  const before = await items();
  summary.collections = before.map((i) => i.collection);
  summary.itemShape = fields('WarehouseSelectiveSyncItemV1', before[0]);
  const update = (syncOverrides) => selectiveSync.updateSelectiveSyncForWarehouse(warehouseId, { syncOverrides });
  summary.turnedOff = (await update([{ sourceId, collection: 'signed_up', enabled: false }, { sourceId, collection: 'tracks', property: 'event_text', enabled: false }])).body.data;
  summary.again = (await update([{ sourceId, collection: 'signed_up', enabled: false }])).body.data;
  const after = Object.fromEntries((await items()).map((i) => [i.collection, i]));
  summary.after = { signedUp: after.signed_up.enabled, eventText: after.tracks.properties.event_text, event: after.tracks.properties.event };
  summary.notConnected = await refusal(() => update([{ sourceId: 'no-such-source', enabled: false }]));

  summary.scheduleBefore = (await selectiveSync.getAdvancedSyncScheduleFromWarehouse(warehouseId)).body.data;
  const schedule = { times: [{ hourOfDay: 20, enabled: true }, { hourOfDay: 8, enabled: true }], timezone: 'America/New_York' };
  summary.scheduleReplaced = (await selectiveSync.replaceAdvancedSyncScheduleForWarehouse(warehouseId, { enabled: true, schedule })).body.data;
  summary.scheduleRead = (await selectiveSync.getAdvancedSyncScheduleFromWarehouse(warehouseId)).body.data;
  summary.badHour = await refusal(() => selectiveSync.replaceAdvancedSyncScheduleForWarehouse(warehouseId, { enabled: true, schedule: { times: [{ hourOfDay: 25, enabled: true }], timezone: 'UTC' } }));

  // Settings read and sent back, mask included, keep the password.
  const got = (await warehouses.getWarehouse(warehouseId)).body.data.warehouse;
  const updated = (await warehouses.updateWarehouse(warehouseId, { name: 'BI', enabled: true, settings: got.settings })).body.data.warehouse;
  summary.updated = { name: updated.settings.name, password: updated.settings.password, state: (await warehouses.getConnectionStateFromWarehouse(warehouseId)).body.data.connectionState };

  summary.removed = (await warehouses.removeSourceConnectionFromWarehouse(warehouseId, sourceId)).body.data.status;
  summary.connectedAfter = (await warehouses.listConnectedSourcesFromWarehouse(warehouseId, page)).body.data.sources.length;
  summary.deleted = (await warehouses.deleteWarehouse(warehouseId)).body.data.status;
  summary.missing = await refusal(() => warehouses.getWarehouse(warehouseId));
  return summary;
}

const phases = { connect: connectPhase, inspect: inspectPhase };
phases[phase](...args).then(
  (summary) => console.log(JSON.stringify(summary)),
  (error) => {
    console.error(error.body ? JSON.stringify(error.body) : error);
    process.exit(1);
  },
);
