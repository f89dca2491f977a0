// Bytes are plain arrays of numbers: they live on the V8 heap, where the memory limit sees them.

function utf8Encode(text) {
  const bytes = []
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1)
      if (low >= 0xdc00 && low <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00)
        i++
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd // a lone surrogate, as TextEncoder writes it
    if (c < 0x80) bytes.push(c)
    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63))
    else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
    else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
  }
  return bytes
}

// WHATWG's decoder: each invalid sequence becomes one U+FFFD.
function utf8Decode(bytes) {
  let out = ''
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]
    const need = b >= 0xf0 && b <= 0xf4 ? 3 : b >= 0xe0 ? (b <= 0xef ? 2 : 0) : b >= 0xc2 && b <= 0xdf ? 1 : 0
    if (b < 0x80) {
      out += String.fromCharCode(b)
      i++
      continue
    }
    let c = need === 1 ? b & 31 : need === 2 ? b & 15 : b & 7
    let lower = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80
    let upper = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf
    let j = 1
    for (; need && j <= need; j++) {
      const next = bytes[i + j]
      if (next === undefined || next < lower || next > upper) break
      c = (c << 6) | (next & 63)
      lower = 0x80
      upper = 0xbf
    }
    if (!need || j <= need) {
      out += '\ufffd'
      i += need ? j : 1
      continue
    }
    out += String.fromCodePoint(c)
    i += need + 1
  }
  return out
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const BASE64_VALUES = {}
for (let i = 0; i < 64; i++) BASE64_VALUES[BASE64[i]] = i
BASE64_VALUES['-'] = 62 // Node decodes the URL-safe alphabet too
BASE64_VALUES._ = 63

function base64Encode(bytes) {
  let out = ''
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0)
    out += BASE64[n >> 18] + BASE64[(n >> 12) & 63]
    out += i + 1 < bytes.length ? BASE64[(n >> 6) & 63] : '='
    out += i + 2 < bytes.length ? BASE64[n & 63] : '='
  }
  return out
}

// Lenient like Node's Buffer.from(s, 'base64'): other characters are skipped, padding optional.
function base64Decode(text) {
  const bytes = []
  let bits = 0
  let count = 0
  for (const ch of String(text)) {
    if (ch === '=') break
    const v = BASE64_VALUES[ch]
    if (v === undefined) continue
    bits = (bits << 6) | v
    count += 6
    if (count >= 8) {
      count -= 8
      bytes.push((bits >> count) & 0xff)
    }
  }
  return bytes
}

function hexEncode(bytes) {
  let out = ''
  for (const b of bytes) out += (b < 16 ? '0' : '') + b.toString(16)
  return out
}

function hexDecode(text) {
  const bytes = []
  for (let i = 0; i + 1 < text.length; i += 2) {
    const b = parseInt(text.substr(i, 2), 16)
    if (Number.isNaN(b)) break
    bytes.push(b)
  }
  return bytes
}

function latin1Encode(text) {
  const bytes = []
  for (let i = 0; i < text.length; i++) bytes.push(text.charCodeAt(i) & 0xff)
  return bytes
}

function latin1Decode(bytes) {
  let out = ''
  for (const b of bytes) out += String.fromCharCode(b)
  return out
}

// Node's encodings for strings in and out of bytes.
function bytesFrom(data, encoding) {
  if (typeof data === 'string') {
    switch (encoding || 'utf8') {
      case 'utf8':
      case 'utf-8':
        return utf8Encode(data)
      case 'hex':
        return hexDecode(data)
      case 'base64':
      case 'base64url':
        return base64Decode(data)
      case 'latin1':
      case 'binary':
        return latin1Encode(data)
      default:
        throw new TypeError(`Unknown encoding: ${encoding}`)
    }
  }
  if (data instanceof ArrayBuffer) return Array.from(new Uint8Array(data))
  if (ArrayBuffer.isView(data)) return Array.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
  if (Array.isArray(data)) return data.map((b) => b & 0xff)
  throw new TypeError('The data must be a string, an ArrayBuffer or a typed array')
}

function bytesTo(bytes, encoding) {
  switch (encoding) {
    case 'hex':
      return hexEncode(bytes)
    case 'base64':
      return base64Encode(bytes)
    case 'base64url':
      return base64Encode(bytes).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')
    case 'latin1':
    case 'binary':
      return latin1Decode(bytes)
    case 'utf8':
    case 'utf-8':
      return utf8Decode(bytes)
    default:
      throw new TypeError(`Unknown encoding: ${encoding}`)
  }
}

// Segment exposes the npm packages btoa and atob, which go through Node's 'binary' encoding:
// neither throws, and characters above U+00FF keep their low byte.
define('btoa', function btoa(text) {
  return base64Encode(latin1Encode(String(text)))
})
define('atob', function atob(text) {
  return latin1Decode(base64Decode(text))
})
