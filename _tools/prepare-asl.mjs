// prepare-asl.mjs IN OUT
// Substitutes ${Placeholders} in an ASL definition with dummy values so
// asl-validator can parse and check it, and checks what asl-validator misses
// (Retry BackoffRate must be >= 1). Exits 1 with a clear message on problems.
import { readFileSync, writeFileSync } from "node:fs";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node prepare-asl.mjs IN OUT");
  process.exit(2);
}

// dummyFor returns a plausible value for a placeholder that is a whole JSON
// string, chosen by its name.
function dummyFor(name) {
  if (/StateMachine/i.test(name)) return `arn:aws:states:us-east-1:123456789012:stateMachine:${name}`;
  if (/Bucket/i.test(name)) return "dummy-bucket";
  if (/Table/i.test(name)) return `Dummy${name}`;
  if (/Queue/i.test(name)) return `https://sqs.us-east-1.amazonaws.com/123456789012/${name}`;
  return `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
}

// substitute walks the text tracking JSON strings: a placeholder that is a
// whole string gets a dummy ARN or name, one inside a longer string gets its
// name, and one outside any string (a number such as Seconds) gets 1.
function substitute(text) {
  let out = "";
  let inString = false;
  let stringStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const m = /^\$\{([A-Za-z0-9_]+)\}/.exec(text.slice(i, i + 200));
    if (m) {
      const whole = inString && stringStart === i && text[i + m[0].length] === '"';
      out += !inString ? "1" : whole ? dummyFor(m[1]) : m[1];
      i += m[0].length - 1;
      continue;
    }
    out += c;
    if (inString && c === "\\") {
      out += text[++i] ?? "";
    } else if (c === '"') {
      inString = !inString;
      stringStart = i + 1;
    }
  }
  return out;
}

// backoffProblems finds Retry entries whose BackoffRate is below 1.
function backoffProblems(node, path, problems) {
  if (Array.isArray(node)) {
    node.forEach((v, i) => backoffProblems(v, `${path}[${i}]`, problems));
  } else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "Retry" && Array.isArray(v)) {
        v.forEach((r, i) => {
          if (r && typeof r.BackoffRate === "number" && r.BackoffRate < 1) {
            problems.push(`${path}.Retry[${i}].BackoffRate is ${r.BackoffRate}; Step Functions requires >= 1.0`);
          }
        });
      }
      backoffProblems(v, `${path}.${k}`, problems);
    }
  }
  return problems;
}

const text = substitute(readFileSync(input, "utf8"));
let doc;
try {
  doc = JSON.parse(text);
} catch (e) {
  console.error(`✕ ${input}: not valid JSON after substituting placeholders: ${e.message}`);
  process.exit(1);
}
const problems = backoffProblems(doc, "$", []);
if (problems.length > 0) {
  console.error(`✕ ${input} is invalid:`);
  for (const p of problems) console.error(`  BACKOFF_RATE: ${p}`);
  process.exit(1);
}
writeFileSync(output, text);
