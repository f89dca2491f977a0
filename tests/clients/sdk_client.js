// The official Public API client pointed at a live Segapp: `connect(baseUrl, token)` returns a
// function making any of the SDK's Api classes with basePath = <base URL>/api and the token.
const sdk = require('@segment/public-api-sdk-typescript');

function connect(baseUrl, token) {
  const basePath = `${baseUrl.replace(/\/$/, '')}/api`;
  return (Api) => {
    const api = new Api(basePath);
    api.accessToken = token;
    return api;
  };
}

// The SDK rejects a non-2xx answer with an HttpError carrying the status and the parsed body;
// `instanceof sdk.HttpError` does not match it, so it is recognised by its fields.
const isHttpError = (error) => error && typeof error.statusCode === 'number' && 'body' in error;

// Runs a call the API must refuse; returns what the refusal said, or throws if it succeeded.
async function refusal(call) {
  try {
    await call();
  } catch (error) {
    if (!isHttpError(error)) throw error;
    const [first] = error.body.errors;
    return { status: error.statusCode, type: first.type, field: first.field || null, message: first.message };
  }
  throw new Error('expected the API to refuse this call');
}

module.exports = { sdk, connect, isHttpError, refusal };
