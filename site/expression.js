/**
 * The playground's little language: a formula such as `sigmoid(w*x + b)`, or several lines of
 * `name = formula` whose last line is the loss, as the lecture writes J = ((w·x + b) − y)².
 * Numbers, names, + − * / ^ (a power), parentheses, and the functions below. Names that are
 * never assigned are the inputs. Errors say where the text went wrong.
 */
export const FUNCTIONS = ['sigmoid', 'tanh', 'relu', 'exp', 'log', 'sqrt', 'square', 'abs'];

export class ParseError extends Error {}

function tokenize(line, lineNumber) {
  const tokens = [];
  const pattern =
    /\s*(?:(\d+(?:\.\d+)?(?:e[+-]?\d+)?)|([A-Za-z_\u00c0-\u024f\u0370-\u03ff][\w\u0300-\u036f\u00c0-\u024f\u0370-\u03ff]*)|(\*\*|[-+*/^()=−·×]))/y;
  let at = 0;
  while (at < line.length) {
    if (/^\s*$/.test(line.slice(at))) break;
    pattern.lastIndex = at;
    const m = pattern.exec(line);
    if (!m) throw new ParseError(`line ${lineNumber}: cannot read '${line.slice(at).trim()}'`);
    if (m[1] !== undefined) tokens.push({ kind: 'number', value: Number(m[1]) });
    else if (m[2] !== undefined) tokens.push({ kind: 'name', value: m[2] });
    else
      tokens.push({ kind: 'op', value: { '**': '^', '−': '-', '·': '*', '×': '*' }[m[3]] ?? m[3] });
    at = pattern.lastIndex;
  }
  return tokens;
}

/** Recursive descent: sum → product → power → unary → atom. */
function parseFormula(tokens, lineNumber) {
  let i = 0;
  const peek = () => tokens[i];
  const fail = (what) => {
    throw new ParseError(`line ${lineNumber}: ${what}`);
  };
  const expect = (value) => {
    if (peek()?.value !== value)
      fail(`expected '${value}'${peek() ? ` before '${peek().value}'` : ' at the end'}`);
    i++;
  };
  function atom() {
    const t = tokens[i++];
    if (!t) return fail('the formula ends too early');
    if (t.kind === 'number') return { kind: 'number', value: t.value };
    if (t.kind === 'name') {
      if (peek()?.value === '(') {
        if (!FUNCTIONS.includes(t.value))
          fail(`unknown function '${t.value}' (known: ${FUNCTIONS.join(', ')})`);
        i++;
        const arg = sum();
        expect(')');
        return { kind: 'call', fn: t.value, args: [arg] };
      }
      return { kind: 'name', name: t.value };
    }
    if (t.value === '(') {
      const inner = sum();
      expect(')');
      return inner;
    }
    return fail(`unexpected '${t.value}'`);
  }
  function unary() {
    if (peek()?.value === '-') {
      i++;
      return { kind: 'neg', arg: unary() };
    }
    return atom();
  }
  function power() {
    const base = unary();
    if (peek()?.value !== '^') return base;
    i++;
    return { kind: 'pow', base, exponent: unary() };
  }
  function product() {
    let left = power();
    while (peek()?.value === '*' || peek()?.value === '/') {
      const op = tokens[i++].value;
      left = { kind: op === '*' ? 'mul' : 'div', args: [left, power()] };
    }
    return left;
  }
  function sum() {
    let left = product();
    while (peek()?.value === '+' || peek()?.value === '-') {
      const op = tokens[i++].value;
      left = { kind: op === '+' ? 'add' : 'sub', args: [left, product()] };
    }
    return left;
  }
  const tree = sum();
  if (i < tokens.length) fail(`unexpected '${tokens[i].value}'`);
  return tree;
}

/** Parses a program: { lines: [{ name, tree }], inputs: [names in order of appearance] }. */
export function parseProgram(text) {
  const lines = [];
  const assigned = new Set();
  const inputs = [];
  const seen = (tree) => {
    if (tree.kind === 'name' && !assigned.has(tree.name) && !inputs.includes(tree.name))
      inputs.push(tree.name);
    for (const child of [tree.arg, tree.base, tree.exponent, ...(tree.args ?? [])])
      if (child) seen(child);
  };
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const tokens = tokenize(line, index + 1);
    const named = tokens[0]?.kind === 'name' && tokens[1]?.value === '=';
    const tree = parseFormula(named ? tokens.slice(2) : tokens, index + 1);
    seen(tree);
    const name = named ? tokens[0].value : 'J';
    if (FUNCTIONS.includes(name))
      throw new ParseError(`line ${index + 1}: '${name}' is a function`);
    assigned.add(name);
    lines.push({ name, tree });
  });
  if (lines.length === 0) throw new ParseError('write a formula, for example sigmoid(w*x + b)');
  return { lines, inputs };
}

/** Evaluates a tree with nabla ops; `env` maps names to tensors. */
export function evaluate(nb, tree, env) {
  switch (tree.kind) {
    case 'number':
      return nb.tensor(tree.value);
    case 'name':
      return env.get(tree.name);
    case 'neg':
      return evaluate(nb, tree.arg, env).neg();
    case 'pow': {
      const base = evaluate(nb, tree.base, env);
      // x^2 as square(x): the lecture's node, with its local derivative 2x.
      return tree.exponent.kind === 'number' && tree.exponent.value === 2
        ? base.square()
        : base.pow(evaluate(nb, tree.exponent, env));
    }
    case 'call':
      return evaluate(nb, tree.args[0], env)[tree.fn]();
    default: {
      const [a, b] = tree.args.map((t) => evaluate(nb, t, env));
      return a[tree.kind](b);
    }
  }
}
