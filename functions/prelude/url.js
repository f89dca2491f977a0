// WHATWG URL (https://url.spec.whatwg.org/), as Node has it, for what functions do with URLs:
// parse and resolve, percent-encode, read and edit the parts and the query.
// Not done: IDNA (a non-ASCII hostname stays as written) and IPv6 compression.
const SPECIAL_PORTS = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443', 'ftp:': '21', 'file:': '' }

const inSet = (chars) => (byte) => byte < 0x20 || byte > 0x7e || chars.includes(String.fromCharCode(byte))
const C0_SET = inSet('')
const FRAGMENT_SET = inSet(' "<>`')
const QUERY_SET = inSet(' "#<>')
const SPECIAL_QUERY_SET = inSet(' "#<>\'')
const PATH_SET = inSet(' "#<>?`{}')
const USERINFO_SET = inSet(' "#<>?`{}/:;=@[\\]^|')

function percentEncode(text, set) {
  let out = ''
  for (const byte of utf8Encode(text)) {
    out += set(byte) ? '%' + (byte < 16 ? '0' : '') + byte.toString(16).toUpperCase() : String.fromCharCode(byte)
  }
  return out
}

function invalid() {
  return new TypeError('Invalid URL')
}

// "0x7f.1" is 127.0.0.1, as browsers and Node read it.
function ipv4(host) {
  const labels = host.split('.')
  if (labels[labels.length - 1] === '' && labels.length > 1) labels.pop()
  if (!/^(\d+|0[xX][0-9a-fA-F]*)$/.test(labels[labels.length - 1])) return null
  const numbers = labels.map((label) =>
    /^0[xX][0-9a-fA-F]*$/.test(label) ? parseInt(label.slice(2) || '0', 16)
    : /^0[0-7]+$/.test(label) ? parseInt(label, 8)
    : /^\d+$/.test(label) ? parseInt(label, 10)
    : NaN
  )
  const last = numbers.pop()
  if (labels.length > 4 || numbers.some((n) => !(n <= 255)) || !(last < 256 ** (4 - numbers.length))) throw invalid()
  let address = last + numbers.reduce((sum, n, i) => sum + n * 256 ** (3 - i), 0)
  const parts = []
  for (let i = 0; i < 4; i++, address = Math.floor(address / 256)) parts.unshift(address % 256)
  return parts.join('.')
}

function parseHost(text, special) {
  if (text.startsWith('[')) {
    if (!/^\[[0-9a-fA-F:.]+\]$/.test(text)) throw invalid()
    return text.toLowerCase()
  }
  if (!special) {
    if (/[\0\t\n\r #/:<>?@[\\\]^|]/.test(text)) throw invalid()
    return percentEncode(text, C0_SET)
  }
  const host = percentDecode(text).toLowerCase()
  if (!host || /[\0-\x20#%/:<>?@[\\\]^|\x7f]/.test(host)) throw invalid()
  return ipv4(host) ?? host
}

function parsePort(text, protocol) {
  if (text === '') return ''
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw invalid()
  const port = String(Number(text))
  return port === SPECIAL_PORTS[protocol] ? '' : port
}

// Resolves "." and ".." segments and encodes the rest; a special URL's path is never empty.
function parsePath(text, special) {
  if (special) text = text.replace(/\\/g, '/')
  if (text === '') return special ? '/' : ''
  const segments = text.split('/')
  if (text.startsWith('/')) segments.shift()
  const out = []
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1
    const lower = segment.toLowerCase()
    if (lower === '.' || lower === '%2e') {
      if (last) out.push('')
    } else if (['..', '.%2e', '%2e.', '%2e%2e'].includes(lower)) {
      out.pop()
      if (last) out.push('')
    } else out.push(percentEncode(segment, PATH_SET))
  })
  return '/' + out.join('/')
}

function withAuthority(record, text) {
  const special = record.protocol in SPECIAL_PORTS
  const end = text.search(special ? /[/\\]/ : /\//)
  let authority = end < 0 ? text : text.slice(0, end)
  const at = authority.lastIndexOf('@')
  if (at >= 0) {
    const userinfo = authority.slice(0, at)
    const colon = userinfo.indexOf(':')
    record.username = percentEncode(colon < 0 ? userinfo : userinfo.slice(0, colon), USERINFO_SET)
    record.password = colon < 0 ? '' : percentEncode(userinfo.slice(colon + 1), USERINFO_SET)
    authority = authority.slice(at + 1)
  }
  const [, host, port = ''] = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(authority) || []
  if (host === undefined || (special && record.protocol !== 'file:' && host === '')) throw invalid()
  record.hostname = host === '' ? '' : parseHost(host, special)
  record.port = parsePort(port, record.protocol)
  record.path = parsePath(end < 0 ? '' : text.slice(end), special)
}

function blank(protocol) {
  return { protocol, username: '', password: '', hostname: null, port: '', path: '', opaque: false, query: null, fragment: null }
}

function parseURL(input, base) {
  let text = String(input).replace(/^[\0-\x20]+|[\0-\x20]+$/g, '').replace(/[\t\n\r]/g, '')
  let fragment = null
  let query = null
  const hash = text.indexOf('#')
  if (hash >= 0) [text, fragment] = [text.slice(0, hash), text.slice(hash + 1)]
  const question = text.indexOf('?')
  if (question >= 0) [text, query] = [text.slice(0, question), text.slice(question + 1)]

  let record
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(text)
  if (scheme) {
    record = blank(scheme[1].toLowerCase() + ':')
    const rest = text.slice(scheme[0].length)
    const special = record.protocol in SPECIAL_PORTS
    if (special && base && base.protocol === record.protocol && !/^[/\\]{2}/.test(rest)) {
      record = resolve(rest, base, query !== null)
    } else if (record.protocol === 'file:' && !/^[/\\]{2}/.test(rest)) {
      ;[record.hostname, record.path] = ['', parsePath(rest, true)]
    } else if (record.protocol === 'file:') withAuthority(record, rest.slice(2))
    else if (special) withAuthority(record, rest.replace(/^[/\\]*/, ''))
    else if (rest.startsWith('//')) withAuthority(record, rest.slice(2))
    else if (rest.startsWith('/')) record.path = parsePath(rest, false)
    else [record.path, record.opaque] = [percentEncode(rest, C0_SET), true]
  } else if (base && (!base.opaque || (text === '' && query === null))) {
    record = resolve(text, base, query !== null)
  } else throw invalid()

  const special = record.protocol in SPECIAL_PORTS
  if (query !== null) record.query = percentEncode(query, special ? SPECIAL_QUERY_SET : QUERY_SET)
  if (fragment !== null) record.fragment = percentEncode(fragment, FRAGMENT_SET)
  return record
}

function resolve(text, base, hasQuery) {
  const special = base.protocol in SPECIAL_PORTS
  const record = { ...base, fragment: null }
  if (special ? /^[/\\]{2}/.test(text) : text.startsWith('//')) {
    Object.assign(record, blank(base.protocol))
    withAuthority(record, special ? text.replace(/^[/\\]*/, '') : text.slice(2))
  } else if (special ? /^[/\\]/.test(text) : text.startsWith('/')) record.path = parsePath(text, special)
  else if (text !== '') record.path = parsePath(base.path.slice(0, base.path.lastIndexOf('/') + 1) + text, special)
  if (text !== '' || hasQuery) record.query = null
  return record
}

function serialize(r) {
  let href = r.protocol
  if (r.hostname !== null) {
    href += '//'
    if (r.username || r.password) href += r.username + (r.password ? ':' + r.password : '') + '@'
    href += r.hostname + (r.port ? ':' + r.port : '')
  }
  return href + r.path + (r.query !== null ? '?' + r.query : '') + (r.fragment !== null ? '#' + r.fragment : '')
}

class URL {
  #r
  #params

  constructor(url, base) {
    this.#r = parseURL(url, base === undefined ? undefined : new URL(base).#r)
    this.#params = new URLSearchParams(this.#r.query ?? '')
    listenToParams(this.#params, (query) => (this.#r.query = query === '' ? null : query))
  }

  static canParse(url, base) {
    try {
      new URL(url, base)
      return true
    } catch {
      return false
    }
  }

  get href() {
    return serialize(this.#r)
  }
  set href(value) {
    this.#r = parseURL(value)
    replaceParams(this.#params, this.#r.query ?? '')
  }

  get origin() {
    const r = this.#r
    return r.protocol in SPECIAL_PORTS && r.protocol !== 'file:' ? `${r.protocol}//${this.host}` : 'null'
  }

  get protocol() {
    return this.#r.protocol
  }

  get username() {
    return this.#r.username
  }
  set username(value) {
    if (this.#r.hostname) this.#r.username = percentEncode(String(value), USERINFO_SET)
  }

  get password() {
    return this.#r.password
  }
  set password(value) {
    if (this.#r.hostname) this.#r.password = percentEncode(String(value), USERINFO_SET)
  }

  get host() {
    const r = this.#r
    return (r.hostname ?? '') + (r.port ? ':' + r.port : '')
  }
  set host(value) {
    const [, host, port] = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(String(value)) || []
    this.hostname = host
    if (port !== undefined) this.port = port
  }

  get hostname() {
    return this.#r.hostname ?? ''
  }
  set hostname(value) {
    if (this.#r.opaque) return
    try {
      this.#r.hostname = parseHost(String(value), this.#r.protocol in SPECIAL_PORTS)
    } catch {} // an invalid value leaves the URL as it was, as the setter does in Node
  }

  get port() {
    return this.#r.port
  }
  set port(value) {
    const digits = /^\d*/.exec(String(value))[0]
    try {
      if (this.#r.hostname) this.#r.port = parsePort(digits, this.#r.protocol)
    } catch {}
  }

  get pathname() {
    return this.#r.path
  }
  set pathname(value) {
    if (!this.#r.opaque) this.#r.path = parsePath('/' + String(value).replace(/^[/]/, ''), this.#r.protocol in SPECIAL_PORTS)
  }

  get search() {
    return this.#r.query ? '?' + this.#r.query : ''
  }
  set search(value) {
    const query = String(value).replace(/^\?/, '')
    const special = this.#r.protocol in SPECIAL_PORTS
    this.#r.query = query === '' ? null : percentEncode(query, special ? SPECIAL_QUERY_SET : QUERY_SET)
    replaceParams(this.#params, query)
  }

  get searchParams() {
    return this.#params
  }

  get hash() {
    return this.#r.fragment ? '#' + this.#r.fragment : ''
  }
  set hash(value) {
    const fragment = String(value).replace(/^#/, '')
    this.#r.fragment = fragment === '' ? null : percentEncode(fragment, FRAGMENT_SET)
  }

  toString() {
    return this.href
  }

  toJSON() {
    return this.href
  }
}

define('URL', URL)
