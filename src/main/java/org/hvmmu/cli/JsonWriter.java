package org.hvmmu.cli;

/**
 * A small hand-written JSON writer, two-space indented: objects, arrays, strings, integers,
 * booleans and null. Strings are escaped per RFC 8259, and every character outside printable ASCII
 * is written as a {@code \\uXXXX} escape, so the output is ASCII whatever the console's charset.
 *
 * <p>The caller nests the calls correctly; names are given with {@link #name} before each member's
 * value. Not thread-safe.
 */
final class JsonWriter {
  private final StringBuilder out = new StringBuilder();

  /** Per open container: whether it has a member yet. */
  private boolean[] hasMember = new boolean[16];

  private int depth;
  private boolean afterName;

  JsonWriter beginObject() {
    return open('{');
  }

  JsonWriter endObject() {
    return close('}');
  }

  JsonWriter beginArray() {
    return open('[');
  }

  JsonWriter endArray() {
    return close(']');
  }

  JsonWriter name(String name) {
    separate();
    quote(name);
    out.append(": ");
    afterName = true;
    return this;
  }

  JsonWriter value(String value) {
    if (value == null) {
      return nullValue();
    }
    separate();
    quote(value);
    return this;
  }

  JsonWriter value(long value) {
    separate();
    out.append(value);
    return this;
  }

  JsonWriter value(boolean value) {
    separate();
    out.append(value);
    return this;
  }

  JsonWriter nullValue() {
    separate();
    out.append("null");
    return this;
  }

  private JsonWriter open(char c) {
    separate();
    out.append(c);
    if (++depth == hasMember.length) {
      hasMember = java.util.Arrays.copyOf(hasMember, 2 * depth);
    }
    hasMember[depth] = false;
    return this;
  }

  private JsonWriter close(char c) {
    boolean any = hasMember[depth];
    depth--;
    if (any) {
      newline();
    }
    out.append(c);
    return this;
  }

  /** Before a value or name: a comma and a new line, unless it follows a name. */
  private void separate() {
    if (afterName) {
      afterName = false;
      return;
    }
    if (depth > 0) {
      if (hasMember[depth]) {
        out.append(',');
      }
      hasMember[depth] = true;
      newline();
    }
  }

  private void newline() {
    out.append('\n');
    for (int i = 0; i < depth; i++) {
      out.append("  ");
    }
  }

  private void quote(String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20 || c > 0x7e) {
            out.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  /**
   * The text written so far.
   *
   * @return the JSON text
   */
  @Override
  public String toString() {
    return out.toString();
  }
}
