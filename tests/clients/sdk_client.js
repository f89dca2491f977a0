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

module.exports = { sdk, connect, isHttpError };
