// Expressions Packer 1.6.6 refuses (`packer console` says Error), each with what kiln's message
// must name: the function, and the parameter or argument at fault when there is one. Checked by
// invalid-expressions.test.ts against kiln and, when packer is installed, against Packer.
export interface InvalidExpression {
  expression: string;
  /** The function kiln's message names. */
  fn: string;
  /** The parameter (or argument) kiln's message names; undefined where the call as a whole is wrong. */
  arg?: string;
}

export const INVALID_EXPRESSIONS: InvalidExpression[] = [
  // numbers where a whole number is needed, indices and ranges out of bounds
  { expression: 'element(["a", "b"], 0.5)', fn: 'element', arg: 'index' },
  { expression: 'element([], 0)', fn: 'element', arg: 'list' },
  { expression: 'slice([1, 2, 3], -1, 5)', fn: 'slice', arg: 'start_index' },
  { expression: 'slice([1, 2, 3], 1, 5)', fn: 'slice', arg: 'end_index' },
  { expression: 'slice([1, 2, 3], 2, 1)', fn: 'slice', arg: 'start_index' },
  { expression: 'slice([1, 2, 3], 0.5, 1)', fn: 'slice', arg: 'start_index' },
  { expression: 'substr("abc", 0.5, 1)', fn: 'substr', arg: 'offset' },
  { expression: 'indent(-1, "x")', fn: 'indent', arg: 'spaces' },
  { expression: 'range(1025)', fn: 'range', arg: 'params' },
  { expression: 'range(0, 2000, 1)', fn: 'range', arg: 'params' },
  { expression: 'range(1, 2, 0)', fn: 'range', arg: 'params' },
  { expression: 'range()', fn: 'range', arg: 'params' },
  // parsing and decoding
  { expression: 'parseint("12abc", 10)', fn: 'parseint', arg: 'number' },
  { expression: 'parseint("1", 1)', fn: 'parseint', arg: 'base' },
  { expression: 'parseint("1", 63)', fn: 'parseint', arg: 'base' },
  { expression: 'parseint("ff", 10)', fn: 'parseint', arg: 'number' },
  { expression: 'base64decode("!!!")', fn: 'base64decode', arg: 'str' },
  { expression: 'jsondecode("{")', fn: 'jsondecode', arg: 'str' },
  { expression: 'formatdate("YYYY", "not a date")', fn: 'formatdate', arg: 'time' },
  { expression: 'timeadd("2026-01-01T00:00:00Z", "5 parsecs")', fn: 'timeadd', arg: 'duration' },
  { expression: 'format("%d", "x")', fn: 'format', arg: '%d' },
  { expression: 'format("%s %d", "a", [1])', fn: 'format', arg: '%d' },
  { expression: 'format("%t", "maybe")', fn: 'format', arg: '%t' },
  { expression: 'format("%s")', fn: 'format', arg: 'args' },
  // regular expressions (RE2: no backreferences, no lookahead). Packer 1.6.6 has no regex() or
  // regexall() (kiln has them, as later Packer versions do): its RE2 is reached through regex_replace.
  { expression: 'regex_replace("x", "(", "y")', fn: 'regex_replace', arg: 'substr' },
  { expression: 'regex_replace("aa", "(a)\\\\1", "y")', fn: 'regex_replace', arg: 'substr' },
  { expression: 'regex_replace("ab", "a(?=b)", "y")', fn: 'regex_replace', arg: 'substr' },
  { expression: 'regex_replace("x", "[z-a]", "y")', fn: 'regex_replace', arg: 'substr' },
  // unknown functions and wrong arity
  { expression: 'upperr("x")', fn: 'upperr' },
  { expression: 'nosuchfunction()', fn: 'nosuchfunction' },
  { expression: 'upper()', fn: 'upper', arg: 'str' },
  { expression: 'upper("a", "b")', fn: 'upper' },
  { expression: 'split(",")', fn: 'split', arg: 'str' },
  { expression: 'jsonencode()', fn: 'jsonencode', arg: 'val' },
  { expression: 'trim("x")', fn: 'trim', arg: 'cutset' },
  { expression: 'max()', fn: 'max', arg: 'numbers' },
  { expression: 'coalesce()', fn: 'coalesce', arg: 'vals' },
  // wrong argument types
  { expression: 'upper(["a"])', fn: 'upper', arg: 'str' },
  { expression: 'length(5)', fn: 'length', arg: 'value' },
  { expression: 'join(",", "abc")', fn: 'join', arg: 'lists' },
  { expression: 'keys([1])', fn: 'keys', arg: 'inputMap' },
  { expression: 'merge(1)', fn: 'merge', arg: 'maps' },
  { expression: 'abs("x")', fn: 'abs', arg: 'num' },
  { expression: 'min("a")', fn: 'min', arg: 'numbers' },
  { expression: 'flatten(1)', fn: 'flatten', arg: 'list' },
  { expression: 'distinct("x")', fn: 'distinct', arg: 'list' },
  { expression: 'contains("a", "a")', fn: 'contains', arg: 'list' },
  { expression: 'reverse("x")', fn: 'reverse', arg: 'list' },
  { expression: 'base64encode(["a"])', fn: 'base64encode', arg: 'str' },
  { expression: 'md5({a = 1})', fn: 'md5', arg: 'str' },
  { expression: 'zipmap(["a"], [1, 2])', fn: 'zipmap', arg: 'values' },
  { expression: 'formatlist("%s", ["a"], ["b", "c"])', fn: 'formatlist', arg: 'args' },
  { expression: 'coalesce(null, null)', fn: 'coalesce', arg: 'vals' },
  { expression: 'lookup({a = 1}, "b")', fn: 'lookup', arg: 'default' },
  { expression: 'file("/nonexistent/kiln-oracle")', fn: 'file', arg: 'path' },
];
