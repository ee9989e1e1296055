package org.hvmmu.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict RFC 8259 JSON parser for tests: objects become insertion-ordered maps (a duplicate key is
 * an error), arrays lists, numbers {@code Long} (the CLI writes integers only; anything else is an
 * error), strings, booleans and {@code JSON_NULL}. Whitespace is allowed only where the RFC allows
 * it; trailing text, trailing commas, single quotes and unescaped control characters are errors.
 */
final class StrictJson {
  /** The parsed value of {@code null} (maps do not take null values well in assertions). */
  static final Object JSON_NULL = new Object() {
    @Override
    public String toString() {
      return "null";
    }
  };

  private final String text;
  private int at;

  private StrictJson(String text) {
    this.text = text;
  }

  static Object parse(String text) {
    StrictJson p = new StrictJson(text);
    p.ws();
    Object value = p.value();
    p.ws();
    if (p.at != text.length()) {
      throw p.error("trailing text");
    }
    return value;
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException(what + " at offset " + at + ": "
        + text.substring(Math.max(0, at - 20), Math.min(text.length(), at + 20)));
  }

  private void ws() {
    while (at < text.length() && " \t\r\n".indexOf(text.charAt(at)) >= 0) {
      at++;
    }
  }

  private char peek() {
    if (at >= text.length()) {
      throw error("unexpected end");
    }
    return text.charAt(at);
  }

  private void expect(char c) {
    if (peek() != c) {
      throw error("expected '" + c + "'");
    }
    at++;
  }

  private Object value() {
    char c = peek();
    switch (c) {
      case '{':
        return object();
      case '[':
        return array();
      case '"':
        return string();
      case 't':
        literal("true");
        return Boolean.TRUE;
      case 'f':
        literal("false");
        return Boolean.FALSE;
      case 'n':
        literal("null");
        return JSON_NULL;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          return number();
        }
        throw error("unexpected character");
    }
  }

  private void literal(String word) {
    if (!text.startsWith(word, at)) {
      throw error("expected " + word);
    }
    at += word.length();
  }

  private Map<String, Object> object() {
    expect('{');
    Map<String, Object> map = new LinkedHashMap<>();
    ws();
    if (peek() == '}') {
      at++;
      return map;
    }
    while (true) {
      ws();
      String key = string();
      ws();
      expect(':');
      ws();
      Object value = value();
      if (map.put(key, value) != null) {
        throw error("duplicate key " + key);
      }
      ws();
      if (peek() == ',') {
        at++;
        continue;
      }
      expect('}');
      return map;
    }
  }

  private List<Object> array() {
    expect('[');
    List<Object> list = new ArrayList<>();
    ws();
    if (peek() == ']') {
      at++;
      return list;
    }
    while (true) {
      ws();
      list.add(value());
      ws();
      if (peek() == ',') {
        at++;
        continue;
      }
      expect(']');
      return list;
    }
  }

  private String string() {
    expect('"');
    StringBuilder out = new StringBuilder();
    while (true) {
      char c = peek();
      at++;
      if (c == '"') {
        return out.toString();
      }
      if (c < 0x20) {
        throw error("unescaped control character");
      }
      if (c != '\\') {
        out.append(c);
        continue;
      }
      char e = peek();
      at++;
      switch (e) {
        case '"' -> out.append('"');
        case '\\' -> out.append('\\');
        case '/' -> out.append('/');
        case 'b' -> out.append('\b');
        case 'f' -> out.append('\f');
        case 'n' -> out.append('\n');
        case 'r' -> out.append('\r');
        case 't' -> out.append('\t');
        case 'u' -> {
          if (at + 4 > text.length()) {
            throw error("short \\u escape");
          }
          out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
          at += 4;
        }
        default -> throw error("bad escape");
      }
    }
  }

  private Long number() {
    int start = at;
    if (peek() == '-') {
      at++;
    }
    if (peek() == '0') {
      at++;
    } else {
      while (at < text.length() && Character.isDigit(text.charAt(at))) {
        at++;
      }
    }
    if (at < text.length() && ".eE".indexOf(text.charAt(at)) >= 0) {
      throw error("the CLI writes integers only");
    }
    return Long.parseLong(text.substring(start, at));
  }
}
