// Regulates end users' data in a live Segapp through Segment's official Public API client, with
// only the SDK's own DeletionAndSuppressionApi methods.
// Usage:
//   node regulations_api_flow.js create <base URL> <owner token> <member token> <sourceId>
//   node regulations_api_flow.js status <base URL> <owner token> <regulationId>
// "create" makes source and workspace regulations, lists, gets and deletes them and lists the
// suppressions; the test then runs the archive's sweep, and "status" reads a deletion's progress.
// Each prints one JSON summary on stdout for the pytest test to check.
const { sdk, connect, refusal } = require('./sdk_client');

const [phase, baseUrl, token, ...args] = process.argv.slice(2);
const regulations = connect(baseUrl, token)(sdk.DeletionAndSuppressionApi);
const page = { count: 10 };

// Every answer is checked against the SDK's model as the SDK itself deserialized it: a required
// field the server left out (or misspelled) is undefined here.
function fields(model, value) {
  const missing = sdk[model].getAttributeTypeMap()
    .filter((attr) => value[attr.name] === undefined && attr.name !== 'finishedAt')
    .map((attr) => attr.name);
  return missing.length ? { model, missing } : 'ok';
}

const regulate = (regulationType, subjectIds, subjectType = 'USER_ID') => ({ regulationType, subjectType, subjectIds });
const brief = (entry) => ({ type: entry.regulationType, subjects: entry.subjects, status: entry.status });

async function createPhase(memberToken, sourceId) {
  const summary = {};
  const suppressed = (await regulations.createSourceRegulation(sourceId, regulate('SUPPRESS_ONLY', ['ada', 'bob']))).body.data;
  const deletion = (await regulations.createWorkspaceRegulation(regulate('SUPPRESS_WITH_DELETE', ['cy']))).body.data;
  const withdrawn = (await regulations.createWorkspaceRegulation(regulate('DELETE_ONLY', ['dee']))).body.data;
  summary.created = {
    shape: fields('CreateSourceRegulationV1Output', suppressed),
    ids: [suppressed.regulateId, deletion.regulateId, withdrawn.regulateId],
  };

  const workspaceWide = (await regulations.listWorkspaceRegulations(page)).body.data;
  summary.workspaceList = {
    entries: workspaceWide.regulations.map(brief),
    shape: fields('RegulationListEntryV1', workspaceWide.regulations[0]),
    total: workspaceWide.pagination.totalEntries,
  };
  const filtered = (await regulations.listWorkspaceRegulations(page, 'INITIALIZED', ['DELETE_ONLY', 'UNSUPPRESS'])).body.data;
  summary.filtered = filtered.regulations.map((r) => r.id);
  const fromSource = (await regulations.listRegulationsFromSource(sourceId, page)).body.data;
  summary.sourceList = fromSource.regulations.map(brief);

  const got = (await regulations.getRegulation(deletion.regulateId)).body.data.regulation;
  summary.got = {
    id: got.id, status: got.overallStatus, shape: fields('Regulation', got),
    streams: got.streamStatus.map((s) => ({ id: s.id, systems: s.destinationStatus.map((d) => [d.id, d.status]) })),
  };

  summary.deleted = (await regulations.deleteRegulation(withdrawn.regulateId)).body.data.status;
  summary.deletedAgain = await refusal(() => regulations.deleteRegulation(withdrawn.regulateId));
  summary.deleteFinished = await refusal(() => regulations.deleteRegulation(suppressed.regulateId));

  const suppressions = (await regulations.listSuppressions(page)).body.data;
  summary.suppressed = {
    ids: suppressions.suppressed.flatMap((s) => s.subjectIds),
    types: [...new Set(suppressions.suppressed.map((s) => s.subjectType))],
    total: suppressions.pagination.totalEntries,
  };

  summary.objectId = await refusal(() => regulations.createWorkspaceRegulation(regulate('DELETE_ONLY', ['obj-1'], 'OBJECT_ID')));
  summary.tooMany = await refusal(() => regulations.createWorkspaceRegulation(regulate('SUPPRESS_ONLY', Array.from({ length: 5001 }, (_, n) => `u${n}`))));
  summary.unsuppressScope = await refusal(() => regulations.createSourceRegulation(sourceId, regulate('UNSUPPRESS', ['cy'])));
  const member = connect(baseUrl, memberToken)(sdk.DeletionAndSuppressionApi);
  summary.member = await refusal(() => member.createWorkspaceRegulation(regulate('SUPPRESS_ONLY', ['eve'])));
  summary.memberReads = (await member.listWorkspaceRegulations(page)).body.data.pagination.totalEntries;
  return summary;
}

async function statusPhase(regulationId) {
  const got = (await regulations.getRegulation(regulationId)).body.data.regulation;
  return {
    status: got.overallStatus,
    finished: got.finishedAt !== '',
    systems: got.streamStatus.flatMap((s) => s.destinationStatus.map((d) => [d.name, d.status, d.finishedAt !== ''])),
  };
}

(phase === 'create' ? createPhase(...args) : statusPhase(...args))
  .then((summary) => console.log(JSON.stringify(summary)))
  .catch((error) => {
    console.error(error.statusCode ? `${error.statusCode} ${JSON.stringify(error.body)}` : error);
    process.exit(1);
  });
