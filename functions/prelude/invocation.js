// How the host drives one invocation: start the handler, then poll; send the fetches and wait
// out the timers it reports, settling and firing them here, until the handler's promise settles.
// Every call returns at once, so the host can time each one.
const stringify = JSON.stringify
const parse = JSON.parse
const outcome = { done: false, value: 'null', error: null }

function describe(error) {
  if (!(error instanceof Error)) {
    return { name: 'Error', message: typeof error === 'string' ? error : show(error, false), stack: '' }
  }
  let name = String(error.name)
  const constructor = error.constructor && error.constructor.name
  if (name === 'Error' && constructor && constructor !== 'Error') name = constructor // class X extends Error {}
  return { name, message: String(error.message), stack: String(error.stack) }
}

function finish(ok, result) {
  if (outcome.done) return
  outcome.done = true
  if (!ok) {
    outcome.error = describe(result)
    return
  }
  try {
    outcome.value = stringify(result === undefined ? null : result) ?? 'null'
  } catch (error) {
    outcome.error = describe(new TypeError(`The handler's return value is not JSON: ${error.message}`))
  }
}

const control = {
  configure(limits) {
    outbox.max = limits.fetches
    logs.maxLines = limits.log_lines
    logs.maxChars = limits.log_chars
  },

  start(handler, args) {
    let result
    try {
      result = handler(...parse(args))
    } catch (error) {
      return finish(false, error)
    }
    Promise.resolve(result).then(
      (value) => finish(true, value),
      (error) => finish(false, error)
    )
  },

  poll() {
    const lines = logs.lines.slice(logs.sent)
    logs.sent = logs.lines.length
    return stringify({
      done: outcome.done,
      value: outcome.value,
      error: outcome.error,
      fetches: outbox.queued.splice(0),
      wait: outcome.done ? null : nextTimerDelay(),
      logs: lines,
      dropped: logs.dropped,
    })
  },

  settle(id, reply) {
    settleFetch(id, parse(reply))
  },

  tick() {
    fireDueTimers((error) => finish(false, error))
  },
}

Object.defineProperty(globalThis, '__segapp', { value: Object.freeze(control) })

// These would run code in V8 between the host's calls (Atomics.waitAsync's timers, WebAssembly's
// compiles, finalizers), out of the time limit's sight and the host's view of what is pending.
for (const name of ['WebAssembly', 'FinalizationRegistry', 'SharedArrayBuffer']) delete globalThis[name]
delete Atomics.wait
delete Atomics.waitAsync
globalThis.__timer_manager = undefined // mini-racer's own setTimeout, replaced by timers.js
