// WHATWG URLSearchParams: application/x-www-form-urlencoded pairs, as Node has them.

function percentDecode(text) {
  const bytes = utf8Encode(text)
  const out = []
  for (let i = 0; i < bytes.length; i++) {
    const hex = String.fromCharCode(bytes[i + 1], bytes[i + 2])
    if (bytes[i] === 0x25 && /^[0-9a-fA-F]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16))
      i += 2
    } else out.push(bytes[i])
  }
  return utf8Decode(out)
}

function formEncode(text) {
  let out = ''
  for (const byte of utf8Encode(text)) {
    const ch = String.fromCharCode(byte)
    out += byte === 0x20 ? '+' : /[A-Za-z0-9*\-._]/.test(ch) ? ch : '%' + (byte < 16 ? '0' : '') + byte.toString(16).toUpperCase()
  }
  return out
}

function parseForm(text) {
  return text
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=')
      const [name, value] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)]
      return [percentDecode(name.replace(/\+/g, ' ')), percentDecode(value.replace(/\+/g, ' '))]
    })
}

let listenToParams // (params, onChange): a URL's searchParams write back to it
let replaceParams // (params, query): and follow its search setter

class URLSearchParams {
  #list = []
  #onChange = null

  static {
    listenToParams = (params, onChange) => (params.#onChange = onChange)
    replaceParams = (params, query) => (params.#list = parseForm(query))
  }

  constructor(init = '') {
    if (init instanceof URLSearchParams) this.#list = init.#list.map(([n, v]) => [n, v])
    else if (init !== null && typeof init === 'object' && typeof init[Symbol.iterator] === 'function') {
      for (const pair of init) {
        const items = [...pair]
        if (items.length !== 2) throw new TypeError('Each query pair must be an iterable [name, value] tuple')
        this.#list.push([String(items[0]), String(items[1])])
      }
    } else if (init !== null && typeof init === 'object') {
      for (const name of Object.keys(init)) this.#list.push([name, String(init[name])])
    } else this.#list = parseForm(String(init).replace(/^\?/, ''))
  }

  #changed() {
    if (this.#onChange) this.#onChange(this.toString())
  }

  get size() {
    return this.#list.length
  }

  append(name, value) {
    this.#list.push([String(name), String(value)])
    this.#changed()
  }

  delete(name, value) {
    name = String(name)
    this.#list = this.#list.filter(([n, v]) => n !== name || (value !== undefined && v !== String(value)))
    this.#changed()
  }

  get(name) {
    const pair = this.#list.find(([n]) => n === String(name))
    return pair ? pair[1] : null
  }

  getAll(name) {
    return this.#list.filter(([n]) => n === String(name)).map(([, v]) => v)
  }

  has(name, value) {
    return this.#list.some(([n, v]) => n === String(name) && (value === undefined || v === String(value)))
  }

  set(name, value) {
    name = String(name)
    const first = this.#list.findIndex(([n]) => n === name)
    if (first < 0) this.#list.push([name, String(value)])
    else {
      this.#list[first][1] = String(value)
      this.#list = this.#list.filter(([n], i) => n !== name || i === first)
    }
    this.#changed()
  }

  sort() {
    this.#list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) // stable, by UTF-16 code units
    this.#changed()
  }

  forEach(callback, thisArg) {
    for (const [name, value] of this.#list) callback.call(thisArg, value, name, this)
  }

  *entries() {
    for (const [name, value] of this.#list) yield [name, value]
  }

  *keys() {
    for (const [name] of this.#list) yield name
  }

  *values() {
    for (const [, value] of this.#list) yield value
  }

  [Symbol.iterator]() {
    return this.entries()
  }

  toString() {
    return this.#list.map(([n, v]) => formEncode(n) + '=' + formEncode(v)).join('&')
  }
}

define('URLSearchParams', URLSearchParams)
