// Applies analytics.js routing rules with the tsub build vendored in @segment/analytics-next, as its
// routing middleware does. stdin: {"rules", "destination", "payloads"}; stdout: the payloads after
// the rules (null where a rule dropped one).
// The bundle expects a browser's global object.
globalThis.self = globalThis;
const tsub = require('@segment/analytics-next/dist/cjs/vendor/tsub/tsub');

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const { rules, destination, payloads } = JSON.parse(input);
  const store = new tsub.Store(rules);
  const results = payloads.map((original) => {
    let payload = JSON.parse(JSON.stringify(original));
    for (const rule of store.getRulesByDestinationName(destination)) {
      for (let i = 0; i < rule.matchers.length; i += 1) {
        if (tsub.matches(payload, rule.matchers[i])) {
          payload = tsub.transform(payload, rule.transformers[i]);
          if (payload === null) return null;
        }
      }
    }
    return payload;
  });
  process.stdout.write(JSON.stringify(results));
});
