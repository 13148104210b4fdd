// Expressions checked against `packer console` (Packer 1.6.6): each is evaluated by kiln and, when
// packer is installed, by Packer, and the two results must be equal. Time-dependent functions
// are given fixed inputs.
export const EXPRESSIONS: string[] = [
  '1/3', '10/2', '1e3', '-0.5', '5 % 3', '-7 % 3', '2 * 3 + 4', '(2 + 3) * 4', '!true', '-(3)',
  '1 < 2 && 2 >= 2 || false', '"a" == "a"', '1 == "1"', '[1, 2] == [1, 2]', '{a = 1} != {a = 2}',
  'true ? "yes" : "no"', '"true" ? 1 : 2', 'null == null',
  '"${1.5}"', '"x${1 + 1}y"', '"a%{ if true }b%{ endif }c"', '"a %{~ if false } b %{ else ~} c %{~ endif ~} d"',
  '"%{ for x in ["a", "b"] }${x},%{ endfor }"', '"%{ for k, v in {a = 1, b = 2} }${k}=${v};%{ endfor }"',
  '"$${x}"', '"%%{x}"', '"tab\\tquote\\"back\\\\slash\\u00e9"', '"${true}"', '"${5}-${0.25}"',
  '[for i, v in ["a", "b"] : "${i}${v}"]', '{for k, v in {a = 1, b = 2} : v => k}', '[for x in [1, 2, 3, 4] : x * 2 if x % 2 == 0]',
  '{for x in ["a", "bb", "cc"] : length(x) => x...}', '[{a = 1}, {a = 2}][*].a', '[{a = {b = 1}}][*].a.b', '{a = [1, 2]}.a[1]', '{a = [1, 2]}["a"][0]',
  '[[1, 2], [3]][0][1]', '{"x y" = 1}["x y"]', 'try({a = 1}.b, "fallback")', 'can({a = 1}.b)', 'can({a = 1}.a)', 'try(["a"][5], 2)',
  'upper("abc")', 'lower("ÀBC")', 'title("hello world")', 'trimspace("  x \\n")', 'trim("?!hello?!", "!?")', 'trimprefix("helloworld", "hello")', 'trimsuffix("helloworld", "world")', 'chomp("x\\n\\n")',
  'replace("aaa", "a", "b")', 'replace("abc", "/[ab]/", "x")', 'regex_replace("2020-01-02T03:04:05Z", "[- TZ:]", "")', 'regex_replace("abc", "(b)", "[$1]")',
  'split(",", "a,b,,c")', 'join("-", ["a", "b"])', 'join(", ", ["a"], ["b", "c"])', 'substr("hello", 1, 3)', 'substr("hello", -3, -1)', 'substr("héllo wörld", 1, 4)',
  'format("%05.2f|%s|%d|%v|%q|%x", 3.14159, "a", 42, "v", "q", 255)', 'format("%-5s|%5s|%%", "ab", "cd")', 'formatlist("%s=%s", ["a", "b"], ["1", "2"])',
  'length("héllo")', 'length([1, 2])', 'length({a = 1})', 'concat([1], [2, 3])', 'lookup({a = 1}, "b", "d")', 'lookup({a = 1}, "a", "d")',
  'merge({a = 1}, {b = 2}, {a = 3})', 'contains(["a"], "a")', 'contains(["a"], "b")', 'coalesce("", "x")', 'coalesce(null, 2)', 'compact(["a", "", "b"])', 'distinct([1, 2, 1])',
  'element(["a", "b"], 3)', 'flatten([[1, [2]], 3])', 'keys({b = 1, a = 2})', 'values({b = 1, a = 2})', 'reverse([1, 2])', 'sort(["b", "a"])', 'slice([1, 2, 3], 1, 2)',
  'range(3)', 'range(1, 4)', 'zipmap(["a", "b"], [1, 2])', 'abs(-3)', 'ceil(1.2)', 'floor(1.8)', 'max(1, 5, 3)', 'min(2, 0.5)', 'parseint("ff", 16)',
  'jsonencode({a = [1, "x", true, null]})', 'jsondecode("{\\"a\\": [1, 2]}")', 'base64encode("kiln")', 'base64decode("a2lsbg==")', 'md5("kiln")', 'sha256("kiln")',
  'basename("/a/b.c")', 'dirname("/a/b.c")', 'abspath("/a/../b")',
  'formatdate("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z")', 'formatdate("EEEE, DD-MMM-YY hh:mm:ss AA ZZZZ Z", "2018-01-02T23:12:01-08:00")',
  'formatdate("YYYYMMDDhhmmss", "2026-11-30T12:02:03Z")', 'formatdate("\'year\' YYYY, h:m:s aa", "2026-03-04T05:06:07+01:30")', 'timeadd("2026-01-01T00:00:00Z", "90m")',
  'max([3, 7]...)',
];
