// Segment's error classes: what a function throws says what happens to the event
// (https://segment.com/docs/connections/functions/destination-functions/#errors-and-error-handling).
class ValidationError extends Error {}
class InvalidEventPayload extends Error {}
class RetryError extends Error {}
class EventNotSupported extends Error {}
class InvalidSettingsError extends Error {}

// Segment's fetch is node-fetch 2, whose failures are FetchErrors with a `type`
// ('system' for the network, 'max-size', 'invalid-json') and, for the network, a `code`.
class FetchError extends Error {
  constructor(message, type, code) {
    super(message)
    this.type = type
    if (code) this.code = this.errno = code
  }
}

for (const error of [ValidationError, InvalidEventPayload, RetryError, EventNotSupported, InvalidSettingsError, FetchError]) {
  Object.defineProperty(error.prototype, 'name', { value: error.name, writable: true, configurable: true })
  define(error.name, error)
}
