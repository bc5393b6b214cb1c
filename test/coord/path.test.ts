// Goal: path validation is ZooKeeper's PathUtils.validatePath, case for case. Method: the cases
// from ZooKeeper's own PathUtilsTest (valid and invalid), plus the sequence-suffix formatting
// of Java's %010d for the whole int32 range.
import { test } from "node:test";
import assert from "node:assert/strict";
import { childName, isValidPath, parentPath, pathProblem, sequenceSuffix } from "../../src/coord/path.js";

test("valid paths", () => {
  for (const path of ["/", "/a", "/a/b", "/a.b", "/.a", "/a.", "/..a", "/a..", "/a/.b", "/a/..b", "/...", "/a/b.c/d", "/\u00a0", "/\uf900", "/zookeeper/config"]) {
    assert.equal(pathProblem(path), undefined, JSON.stringify(path));
  }
});

test("invalid paths and why", () => {
  const cases: Array<[string, RegExp]> = [
    ["", /length/],
    ["a", /start with \//],
    ["a/b", /start with \//],
    ["/a/", /end with \//],
    ["//", /end with \//],
    ["//a", /empty node name/],
    ["/a//b", /empty node name/],
    ["/.", /relative/],
    ["/..", /relative/],
    ["/a/.", /relative/],
    ["/a/./b", /relative/],
    ["/a/../b", /relative/],
    ["/a\u0000b", /null character/],
    ["/\u0001", /invalid character/],
    ["/\u001f", /invalid character/],
    ["/\u007f", /invalid character/],
    ["/\u009f", /invalid character/],
    ["/\ud800", /invalid character/],
    ["/\uf8ff", /invalid character/],
    ["/\ufff0", /invalid character/],
    ["/\uffff", /invalid character/],
  ];
  for (const [path, reason] of cases) {
    assert.match(pathProblem(path) ?? "(valid)", reason, JSON.stringify(path));
    assert.equal(isValidPath(path), false);
  }
});

test("parent and child names", () => {
  assert.equal(parentPath("/a"), "/");
  assert.equal(parentPath("/a/b/c"), "/a/b");
  assert.equal(childName("/a/b/c"), "c");
});

test("sequence suffixes: Java's %010d over the int32 range", () => {
  assert.equal(sequenceSuffix(0), "0000000000");
  assert.equal(sequenceSuffix(42), "0000000042");
  assert.equal(sequenceSuffix(2147483647), "2147483647");
  assert.equal(sequenceSuffix(-1), "-000000001");
  assert.equal(sequenceSuffix(-123456789), "-123456789");
  assert.equal(sequenceSuffix(-1234567890), "-1234567890");
  assert.equal(sequenceSuffix(-2147483648), "-2147483648");
});
