// Segment's fetch is node-fetch 2 (https://github.com/node-fetch/node-fetch/tree/2.x). Here a
// request waits in the outbox until the host has sent it and settles its promise.
const outbox = { queued: [], waiting: new Map(), next: 1, made: 0, max: 20 }

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

function headerName(name) {
  name = String(name)
  if (!TOKEN.test(name)) throw new TypeError(`${name} is not a legal HTTP header name`)
  return name.toLowerCase()
}

function headerValue(value) {
  value = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '')
  if (/[\0\r\n]/.test(value)) throw new TypeError(`${value} is not a legal HTTP header value`)
  return value
}

class Headers {
  #map = new Map() // lower-cased name → its values

  constructor(init) {
    if (init === undefined || init === null) return
    if (typeof init !== 'object') throw new TypeError('Provided initializer must be an object')
    if (typeof init[Symbol.iterator] === 'function') {
      for (const pair of init) {
        const items = [...pair]
        if (items.length !== 2) throw new TypeError('Each header pair must be a name/value tuple')
        this.append(items[0], items[1])
      }
    } else for (const name of Object.keys(init)) this.append(name, init[name])
  }

  append(name, value) {
    const key = headerName(name)
    const values = this.#map.get(key)
    if (values) values.push(headerValue(value))
    else this.#map.set(key, [headerValue(value)])
  }

  set(name, value) {
    this.#map.set(headerName(name), [headerValue(value)])
  }

  get(name) {
    const values = this.#map.get(headerName(name))
    return values ? values.join(', ') : null
  }

  has(name) {
    return this.#map.has(headerName(name))
  }

  delete(name) {
    this.#map.delete(headerName(name))
  }

  raw() {
    return Object.fromEntries([...this.#map].map(([name, values]) => [name, [...values]]))
  }

  forEach(callback, thisArg) {
    for (const [name, value] of this) callback.call(thisArg, value, name, this)
  }

  *entries() {
    for (const name of [...this.#map.keys()].sort()) yield [name, this.get(name)]
  }

  *keys() {
    for (const [name] of this.entries()) yield name
  }

  *values() {
    for (const [, value] of this.entries()) yield value
  }

  [Symbol.iterator]() {
    return this.entries()
  }
}

class Response {
  #bytes
  #truncated
  #used = false

  constructor(reply, url) {
    this.status = reply.status
    this.statusText = reply.statusText
    this.ok = reply.status >= 200 && reply.status < 300
    this.headers = new Headers(reply.headers)
    this.url = url
    this.redirected = false
    this.#bytes = base64Decode(reply.body)
    this.#truncated = reply.truncated
  }

  get bodyUsed() {
    return this.#used
  }

  #read() {
    if (this.#used) throw new TypeError(`body used already for: ${this.url}`)
    this.#used = true
    if (this.#truncated) throw new FetchError(`content size at ${this.url} over limit: ${this.#bytes.length}`, 'max-size')
    return this.#bytes
  }

  // Synchronous bodies, so that a failure's stack still holds the customer's line.
  text() {
    try {
      return Promise.resolve(utf8Decode(this.#read()))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  json() {
    try {
      const text = utf8Decode(this.#read())
      try {
        return Promise.resolve(JSON.parse(text))
      } catch (error) {
        throw new FetchError(`invalid json response body at ${this.url} reason: ${error.message}`, 'invalid-json')
      }
    } catch (error) {
      return Promise.reject(error)
    }
  }

  arrayBuffer() {
    try {
      return Promise.resolve(new Uint8Array(this.#read()).buffer)
    } catch (error) {
      return Promise.reject(error)
    }
  }
}

function prepare(resource, init) {
  let url
  try {
    url = new URL(resource instanceof URL ? resource.href : String(resource))
  } catch {
    throw new TypeError('Only absolute URLs are supported')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('Only HTTP(S) protocols are supported')
  const method = String(init.method || 'GET').toUpperCase()
  const headers = new Headers(init.headers)
  let body = init.body
  if (body !== undefined && body !== null) {
    if (method === 'GET' || method === 'HEAD') throw new TypeError('Request with GET/HEAD method cannot have body')
    let type = 'text/plain;charset=UTF-8'
    if (body instanceof URLSearchParams) type = 'application/x-www-form-urlencoded;charset=UTF-8'
    if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) type = null
    body = type ? utf8Encode(String(body)) : bytesFrom(body)
    if (type && !headers.has('content-type')) headers.set('content-type', type)
  }
  if (!headers.has('accept')) headers.set('accept', '*/*')
  return { method, url: url.href, headers: [...headers], body: body == null ? null : base64Encode(body) }
}

function fetch(resource, init = {}) {
  // Made now, so that a network failure later points at the line that called fetch.
  const callSite = new Error()
  return new Promise((resolve, reject) => {
    const request = prepare(resource, init || {})
    if (outbox.made >= outbox.max) {
      throw new FetchError(`more than ${outbox.max} fetch calls in one invocation`, 'max-fetches')
    }
    outbox.made++
    const id = outbox.next++
    outbox.queued.push({ id, ...request })
    outbox.waiting.set(id, { resolve, reject, callSite, url: request.url })
  })
}

// The host's answer to request `id`: a response, or why there was none.
function settleFetch(id, reply) {
  const waiter = outbox.waiting.get(id)
  if (!waiter) return
  outbox.waiting.delete(id)
  if (reply.error === undefined) return waiter.resolve(new Response(reply, waiter.url))
  const error = new FetchError(`request to ${waiter.url} failed, reason: ${reply.error}`, 'system', reply.code)
  error.stack = `FetchError: ${error.message}\n` + waiter.callSite.stack.split('\n').slice(1).join('\n')
  waiter.reject(error)
}

define('Headers', Headers)
define('Response', Response)
define('fetch', fetch)
