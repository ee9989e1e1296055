package org.hvmmu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonWriterTest {
  @Test
  void shouldEscapeStringsSoThatTheyParseBack() {
    String nasty = "quote \" backslash \\ slash / nl \n cr \r tab \t bs \b ff \f nul \0 "
        + "bell \u0007 del \u007f e-acute \u00e9 snowman \u2603 line-sep \u2028 emoji \ud83d\ude00";
    String json =
        new JsonWriter().beginObject().name(nasty).value(nasty).name("n").nullValue().endObject()
            .toString();
    // Printable ASCII only: every other character is escaped.
    assertEquals(true, json.chars().allMatch(c -> c == '\n' || (c >= 0x20 && c < 0x7f)), json);
    Map<?, ?> parsed = (Map<?, ?>) StrictJson.parse(json);
    assertEquals(nasty, parsed.keySet().iterator().next());
    assertEquals(nasty, parsed.get(nasty));
    assertEquals(StrictJson.JSON_NULL, parsed.get("n"));
  }

  @Test
  void shouldNestAndSeparate() {
    String json =
        new JsonWriter()
            .beginObject()
            .name("a").beginArray().value(1).value(-2).value(true).endArray()
            .name("b").beginObject().endObject()
            .name("c").beginArray().endArray()
            .name("d").beginArray().beginObject().name("x").value("y").endObject().endArray()
            .endObject()
            .toString();
    assertEquals(
        "{\n  \"a\": [\n    1,\n    -2,\n    true\n  ],\n  \"b\": {},\n  \"c\": [],\n  \"d\": [\n"
            + "    {\n      \"x\": \"y\"\n    }\n  ]\n}",
        json);
    assertEquals(
        Map.of("a", List.of(1L, -2L, true), "b", Map.of(), "c", List.of(),
            "d", List.of(Map.of("x", "y"))),
        StrictJson.parse(json));
  }

  @Test
  void theStrictParserShouldRejectWhatJsonForbids() {
    for (String bad : List.of("{\"a\":1,}", "[1,]", "{'a':1}", "{\"a\":1}x", "\"\u0001\"",
        "{\"a\":1,\"a\":2}", "01", "1.5", "[", "tru")) {
      assertThrows(IllegalArgumentException.class, () -> StrictJson.parse(bad), bad);
    }
  }
}
