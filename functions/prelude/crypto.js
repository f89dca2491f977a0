// Node's crypto.createHash and createHmac for md5, sha1 and sha256. Digests are synchronous in
// Node, so they are computed here rather than in the host.
const rotl = (x, n) => (x << n) | (x >>> (32 - n))
const rotr = (x, n) => (x >>> n) | (x << (32 - n))

// The message, its 0x80 marker, zeros, then its length in bits as a 64-bit word.
function padded(bytes, bigEndian) {
  const data = bytes.slice()
  const low = (bytes.length * 8) >>> 0
  const high = Math.floor(bytes.length / 0x20000000)
  data.push(0x80)
  while (data.length % 64 !== 56) data.push(0)
  for (const word of bigEndian ? [high, low] : [low, high]) data.push(...wordBytes(word, bigEndian))
  return data
}

function wordBytes(word, bigEndian) {
  const bytes = [(word >>> 24) & 0xff, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff]
  return bigEndian ? bytes : bytes.reverse()
}

function wordAt(data, i, bigEndian) {
  return bigEndian
    ? (data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]
    : data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
}

const SHA256_K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]

function sha256(bytes) {
  const h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
  const data = padded(bytes, true)
  const w = new Array(64)
  for (let block = 0; block < data.length; block += 64) {
    for (let i = 0; i < 16; i++) w[i] = wordAt(data, block + 4 * i, true)
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3)
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10)
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0
    }
    let [a, b, c, d, e, f, g, k] = h
    for (let i = 0; i < 64; i++) {
      const t1 = (k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + SHA256_K[i] + w[i]) | 0
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0
      k = g
      g = f
      f = e
      e = (d + t1) | 0
      d = c
      c = b
      b = a
      a = (t1 + t2) | 0
    }
    ;[a, b, c, d, e, f, g, k].forEach((v, i) => (h[i] = (h[i] + v) | 0))
  }
  return h.flatMap((word) => wordBytes(word, true))
}

function sha1(bytes) {
  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]
  const data = padded(bytes, true)
  const w = new Array(80)
  for (let block = 0; block < data.length; block += 64) {
    for (let i = 0; i < 16; i++) w[i] = wordAt(data, block + 4 * i, true)
    for (let i = 16; i < 80; i++) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1)
    let [a, b, c, d, e] = h
    for (let i = 0; i < 80; i++) {
      const [f, k] =
        i < 20 ? [(b & c) | (~b & d), 0x5a827999]
        : i < 40 ? [b ^ c ^ d, 0x6ed9eba1]
        : i < 60 ? [(b & c) | (b & d) | (c & d), 0x8f1bbcdc]
        : [b ^ c ^ d, 0xca62c1d6]
      const t = (rotl(a, 5) + f + e + k + w[i]) | 0
      e = d
      d = c
      c = rotl(b, 30)
      b = a
      a = t
    }
    ;[a, b, c, d, e].forEach((v, i) => (h[i] = (h[i] + v) | 0))
  }
  return h.flatMap((word) => wordBytes(word, true))
}

const MD5_T = Array.from({ length: 64 }, (_, i) => (Math.abs(Math.sin(i + 1)) * 0x100000000) | 0)
const MD5_S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]

function md5(bytes) {
  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]
  const data = padded(bytes, false)
  const m = new Array(16)
  for (let block = 0; block < data.length; block += 64) {
    for (let i = 0; i < 16; i++) m[i] = wordAt(data, block + 4 * i, false)
    let [a, b, c, d] = h
    for (let i = 0; i < 64; i++) {
      const [f, g] =
        i < 16 ? [(b & c) | (~b & d), i]
        : i < 32 ? [(d & b) | (~d & c), (5 * i + 1) % 16]
        : i < 48 ? [b ^ c ^ d, (3 * i + 5) % 16]
        : [c ^ (b | ~d), (7 * i) % 16]
      const rotated = rotl((a + f + MD5_T[i] + m[g]) | 0, MD5_S[(i >> 4) * 4 + (i % 4)])
      a = d
      d = c
      c = b
      b = (b + rotated) | 0
    }
    ;[a, b, c, d].forEach((v, i) => (h[i] = (h[i] + v) | 0))
  }
  return h.flatMap((word) => wordBytes(word, false))
}

const DIGESTS = { md5, sha1, sha256 }

function digestNamed(algorithm) {
  const digest = DIGESTS[String(algorithm).toLowerCase()]
  if (!digest) throw new Error('Digest method not supported')
  return digest
}

class Hash {
  #digest
  #data = []
  #done = false

  constructor(digest) {
    this.#digest = digest
  }

  update(data, encoding) {
    if (this.#done) throw new Error('Digest already called')
    this.#data = this.#data.concat(bytesFrom(data, encoding))
    return this
  }

  digest(encoding) {
    if (this.#done) throw new Error('Digest already called')
    this.#done = true
    return encoded(this.#digest(this.#data), encoding)
  }
}

class Hmac {
  #digest
  #key
  #data = []
  #done = false

  constructor(digest, key) {
    let bytes = bytesFrom(key)
    if (bytes.length > 64) bytes = digest(bytes)
    this.#digest = digest
    this.#key = bytes.concat(new Array(64 - bytes.length).fill(0))
  }

  update(data, encoding) {
    if (this.#done) throw new Error('Digest already called')
    this.#data = this.#data.concat(bytesFrom(data, encoding))
    return this
  }

  digest(encoding) {
    if (this.#done) throw new Error('Digest already called')
    this.#done = true
    const inner = this.#digest(this.#key.map((b) => b ^ 0x36).concat(this.#data))
    return encoded(this.#digest(this.#key.map((b) => b ^ 0x5c).concat(inner)), encoding)
  }
}

function encoded(bytes, encoding) {
  // Node returns a Buffer here, and this runtime has none: a string is the honest answer.
  if (encoding === undefined) {
    throw new TypeError("digest() needs an encoding here: 'hex', 'base64', 'base64url' or 'latin1'")
  }
  return bytesTo(bytes, encoding)
}

define('crypto', {
  createHash: (algorithm) => new Hash(digestNamed(algorithm)),
  createHmac: (algorithm, key) => new Hmac(digestNamed(algorithm), key),
})
