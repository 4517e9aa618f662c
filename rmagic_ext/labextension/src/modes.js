/*
 * CodeMirror stream parsers for rmagic_ext's cells, built on CodeMirror's
 * own legacy R and Python modes (the parsers are passed in, so this module
 * depends on nothing and can be tested on its own):
 *
 * - a %%R cell: its magic line (with the options) is one "meta" token, the
 *   rest is R;
 * - a Python cell with %R lines: each "%R ..." line (also "x = %R ...") has
 *   its magic and options as "meta" and its code as R; every other line is
 *   Python.
 *
 * cellMimeType() says which of them a cell's source needs.
 */

export const R_CELL_MIME = 'text/x-rmagic-r';
export const R_LINES_MIME = 'text/x-rmagic-ipython';

/* The MIME types a Python kernel's notebook gives its code cells. */
const PYTHON_MIMES = new Set(['text/x-ipython', 'text/x-python', 'text/python', 'text/x-python3']);

/* The first line that is not blank starts with %%R (IPython drops blank lines before a cell magic). */
const CELL_MAGIC = /^\s*%%R(?:\s|$)/;
/* A %R line magic, alone or assigned: "%R mean(x)", "m = %R mean(x)". */
const LINE_MAGIC = /^(\s*(?:[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*)?)%R(?=\s|$)/;
/* One option of %R / %%R (rmagic_ext's and rpy2's), with its value where it takes one. */
const OPTION = /^\s+(?:-[nN]\b|--(?:noreturn|noisolation)\b|-[iocdwhpbur]\s*[^\s-]\S*|--(?:input|output|converter|display|width|height|pointsize|bg|units|res|type)(?:=|\s+)\S+)/;

/* The MIME type a code cell with this source should have in a notebook whose code cells default to `defaultMime`. */
export function cellMimeType(source, defaultMime) {
  if (!PYTHON_MIMES.has(defaultMime)) {
    return defaultMime;
  }
  const firstLine = source.replace(/^(?:[ \t]*\n)+/, '').split('\n', 1)[0];
  if (CELL_MAGIC.test(firstLine)) {
    return R_CELL_MIME;
  }
  if (source.split('\n').some(line => LINE_MAGIC.test(line))) {
    return R_LINES_MIME;
  }
  return defaultMime;
}

/* What StreamLanguage does for parsers without copyState: one level deep. */
function copyShallow(state) {
  const copy = {};
  for (const key in state) {
    const value = state[key];
    copy[key] = Array.isArray(value) ? value.slice() : value;
  }
  return copy;
}

function copyOf(parser, state) {
  return parser.copyState ? parser.copyState(state) : copyShallow(state);
}

/* A %%R cell: the magic line as "meta", then R. */
export function rCellParser(r) {
  return {
    name: 'rmagic-r',
    startState: indentUnit => ({ inMagicLine: true, r: r.startState(indentUnit) }),
    copyState: state => ({ inMagicLine: state.inMagicLine, r: copyOf(r, state.r) }),
    token(stream, state) {
      if (state.inMagicLine) {
        stream.skipToEnd();
        state.inMagicLine = false;
        return 'meta';
      }
      return r.token(stream, state.r);
    },
    blankLine(state, indentUnit) {
      if (!state.inMagicLine && r.blankLine) {
        r.blankLine(state.r, indentUnit);
      }
    },
    indent(state, textAfter, context) {
      return state.inMagicLine || !r.indent ? null : r.indent(state.r, textAfter, context);
    },
    languageData: r.languageData
  };
}

/*
 * Python, except on %R lines. Within a line the phases are: "python" (an
 * ordinary line, or the "x = " before %R), "magic" (the %R itself), "options",
 * and "r" (the rest of the line, with an R state of its own per line).
 */
export function pythonWithRLinesParser(python, r) {
  return {
    name: 'rmagic-ipython',
    startState: indentUnit => ({
      python: python.startState(indentUnit), r: null, phase: 'python', magicAt: -1, indentUnit
    }),
    copyState: state => ({
      ...state,
      python: copyOf(python, state.python),
      r: state.r && copyOf(r, state.r)
    }),
    token(stream, state) {
      if (stream.sol()) {
        const found = LINE_MAGIC.exec(stream.string);
        state.phase = found ? 'python' : 'plain';
        state.magicAt = found ? found[1].length : -1;
        state.r = found ? r.startState(state.indentUnit) : null;
      }
      if (state.phase === 'plain') {
        return python.token(stream, state.python);
      }
      if (state.phase === 'python') {
        if (stream.pos < state.magicAt) {
          if (stream.eatSpace()) {
            return null;
          }
          const style = python.token(stream, state.python);
          if (stream.pos > state.magicAt) {
            stream.backUp(stream.pos - state.magicAt);
          }
          return style;
        }
        state.phase = 'magic';
      }
      if (state.phase === 'magic') {
        stream.match('%R');
        state.phase = 'options';
        return 'meta';
      }
      if (state.phase === 'options') {
        if (stream.match(OPTION)) {
          return 'meta';
        }
        state.phase = 'r';
      }
      return r.token(stream, state.r);
    },
    blankLine(state, indentUnit) {
      if (python.blankLine) {
        python.blankLine(state.python, indentUnit);
      }
    },
    indent(state, textAfter, context) {
      return python.indent ? python.indent(state.python, textAfter, context) : null;
    },
    languageData: python.languageData
  };
}
