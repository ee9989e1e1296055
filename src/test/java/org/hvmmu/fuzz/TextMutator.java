package org.hvmmu.fuzz;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Mutations of real texts (dumps, scripts) for the fuzz campaigns: bit flips, truncations,
 * duplicated, deleted and swapped lines, very long lines up to and past the readers' bound of 4096
 * characters, binary junk, NUL bytes, CRLF and CR line ends, and numbers at their edges. Draws from
 * the random source only, so a seed gives the same texts.
 */
public final class TextMutator {
  private TextMutator() {}

  /** Numbers at the edges: 0, 2^32 and around, 2^52, 2^64 - 1, past 2^64, negative, huge. */
  public static final List<String> EDGE_NUMBERS = List.of("0", "1", "0x0", "0xffffffff",
      "0x100000000", "4294967296", "0xfffffffffffff", "0x10000000000000", "0x7fffffffffffffff",
      "0x8000000000000000", "0xffffffffffffffff", "18446744073709551615", "18446744073709551616",
      "0x10000000000000000", "-1", "99999999999999999999999999", "0x", "00", "0xfff", "0x1000");

  /** Line lengths around the bound of 4096 characters, and the row of D3. */
  private static final int[] LONG_LINES = {4095, 4096, 4097, 3903, 9000, 70_000};

  /**
   * One to four mutations of {@code text}.
   *
   * @param r the random source
   * @param text the original
   * @return the mutated text
   */
  public static String mutate(SplittableRandom r, String text) {
    String t = text;
    int n = 1 + r.nextInt(4);
    for (int i = 0; i < n; i++) {
      t = once(r, t);
    }
    return t;
  }

  private static String once(SplittableRandom r, String t) {
    List<String> lines = new ArrayList<>(Arrays.asList(t.split("\n", -1)));
    int at = r.nextInt(lines.size());
    switch (r.nextInt(13)) {
      case 0 -> { // bit flip
        if (t.isEmpty()) {
          return t;
        }
        int p = r.nextInt(t.length());
        char c = (char) (t.charAt(p) ^ (1 << r.nextInt(8)));
        return t.substring(0, p) + c + t.substring(p + 1);
      }
      case 1 -> {
        return t.isEmpty() ? t : t.substring(0, r.nextInt(t.length()));
      }
      case 2 -> lines.add(at, lines.get(at));
      case 3 -> lines.remove(at);
      case 4 -> {
        int other = r.nextInt(lines.size());
        String s = lines.get(at);
        lines.set(at, lines.get(other));
        lines.set(other, s);
      }
      case 5 -> lines.add(at, longLine(r));
      case 6 -> lines.add(at, junk(r, 1 + r.nextInt(200)));
      case 7 -> {
        StringBuilder b = new StringBuilder(t);
        b.insert(r.nextInt(t.length() + 1), "\0".repeat(1 + r.nextInt(8)));
        return b.toString();
      }
      case 8 -> {
        return r.nextBoolean() ? t.replace("\n", "\r\n") : t.replace("\n", "\r");
      }
      case 9 -> lines.set(at, edgeNumbers(r, lines.get(at)));
      case 10 -> lines.set(at, lines.get(at) + " " + EDGE_NUMBERS.get(
          r.nextInt(EDGE_NUMBERS.size())));
      case 11 -> { // a token moved to another line
        String[] words = lines.get(at).strip().split("\\s+");
        int to = r.nextInt(lines.size());
        lines.set(to, lines.get(to) + " " + words[r.nextInt(words.length)]);
      }
      default -> { // a line cut inside
        String s = lines.get(at);
        lines.set(at, s.isEmpty() ? s : s.substring(0, r.nextInt(s.length())));
      }
    }
    return String.join("\n", lines);
  }

  /** Replaces each number-like word of {@code line} by an edge number, with probability 1/2. */
  public static String edgeNumbers(SplittableRandom r, String line) {
    String[] words = line.split(" ", -1);
    for (int i = 0; i < words.length; i++) {
      String w = words[i];
      if (!w.isEmpty() && (Character.isDigit(w.charAt(0)) || w.startsWith("0x"))
          && r.nextBoolean()) {
        String e = EDGE_NUMBERS.get(r.nextInt(EDGE_NUMBERS.size()));
        int dash = w.indexOf('-');
        words[i] = dash > 0 && r.nextBoolean()
            ? e + "-" + EDGE_NUMBERS.get(r.nextInt(EDGE_NUMBERS.size())) : e;
      }
    }
    return String.join(" ", words);
  }

  private static String longLine(SplittableRandom r) {
    int length = LONG_LINES[r.nextInt(LONG_LINES.length)];
    String unit = switch (r.nextInt(4)) {
      case 0 -> " 00";
      case 1 -> "x";
      case 2 -> " ff";
      default -> "\0";
    };
    StringBuilder b = new StringBuilder(r.nextBoolean() ? "00:" : "");
    while (b.length() < length) {
      b.append(unit);
    }
    b.setLength(length);
    return b.toString();
  }

  private static String junk(SplittableRandom r, int n) {
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append((char) r.nextInt(r.nextBoolean() ? 256 : 0x10000));
    }
    return b.toString();
  }
}
