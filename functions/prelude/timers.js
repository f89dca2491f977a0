// Timers wait in the host, which fires them when they are due: nothing runs in V8 between the
// host's calls, so the time limit sees all of it.
const timers = new Map() // id → { callback, args, at, every }
let nextTimer = 1

function addTimer(callback, delay, args, repeats) {
  if (typeof callback !== 'function') throw new TypeError('The "callback" argument must be of type function')
  const ms = Math.max(1, Number(delay) || 0) // Node's floor
  const id = nextTimer++
  timers.set(id, { callback, args, at: Date.now() + ms, every: repeats ? ms : null })
  return id
}

function fireDueTimers(onError) {
  const now = Date.now()
  const due = [...timers].filter(([, t]) => t.at <= now).sort(([a, t], [b, u]) => t.at - u.at || a - b)
  for (const [id, timer] of due) {
    if (!timers.has(id)) continue // cleared by an earlier callback
    if (timer.every) timer.at = now + timer.every
    else timers.delete(id)
    try {
      timer.callback(...timer.args)
    } catch (error) {
      onError(error) // uncaught in a timer: Node would crash, failing the invocation
    }
  }
}

// Milliseconds until the next timer is due, or null when none is set.
function nextTimerDelay() {
  if (!timers.size) return null
  return Math.max(0, Math.min(...[...timers.values()].map((t) => t.at)) - Date.now())
}

define('setTimeout', (callback, delay, ...args) => addTimer(callback, delay, args, false))
define('setInterval', (callback, delay, ...args) => addTimer(callback, delay, args, true))
define('setImmediate', (callback, ...args) => addTimer(callback, 0, args, false))
define('clearTimeout', (id) => void timers.delete(id))
define('clearInterval', (id) => void timers.delete(id))
define('clearImmediate', (id) => void timers.delete(id))
define('queueMicrotask', (callback) => void Promise.resolve().then(callback))
