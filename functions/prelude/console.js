// console.* lines go to the invocation's log, bounded in count and length.
const logs = { lines: [], sent: 0, dropped: 0, maxLines: 100, maxChars: 2000 }

function show(value, nested) {
  if (typeof value === 'string') return nested ? JSON.stringify(value) : value
  if (typeof value === 'function') return `[Function: ${value.name || '(anonymous)'}]`
  if (typeof value === 'symbol' || typeof value === 'bigint') return String(value)
  if (value instanceof Error) return value.stack || String(value)
  if (value === undefined || typeof value !== 'object' || value === null) return String(value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value) // a cycle
  }
}

// Node's util.format, for the specifiers functions use.
function format(args) {
  if (typeof args[0] !== 'string' || !args[0].includes('%')) return args.map((v) => show(v, false)).join(' ')
  const rest = args.slice(1)
  const head = args[0].replace(/%([sdifjoO%])/g, (match, spec) => {
    if (spec === '%') return '%'
    if (!rest.length) return match
    const value = rest.shift()
    if (spec === 's') return typeof value === 'string' ? value : show(value, true)
    if (spec === 'd') return String(Number(value))
    if (spec === 'i') return String(parseInt(value))
    if (spec === 'f') return String(parseFloat(value))
    return show(value, true)
  })
  return [head, ...rest.map((v) => show(v, false))].join(' ')
}

function logger(level) {
  return function (...args) {
    if (logs.lines.length >= logs.maxLines) {
      logs.dropped++
      return
    }
    let message = format(args)
    if (message.length > logs.maxChars) message = message.slice(0, logs.maxChars) + '…'
    logs.lines.push({ level, message })
  }
}

define('console', {
  log: logger('log'),
  info: logger('info'),
  warn: logger('warn'),
  error: logger('error'),
  debug: logger('debug'),
})
