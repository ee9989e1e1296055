package org.hvmmu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.junit.jupiter.api.Test;

/**
 * The enforcer cannot see {@code <optional>}, so it allows picocli and Logback by coordinates; this
 * test checks the rest of the rule: every compile or runtime dependency of the library except
 * slf4j-api is optional, so that library users inherit slf4j-api alone.
 */
class PomDependenciesTest {
  private static String child(Element e, String name, String otherwise) {
    for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element c && c.getTagName().equals(name)) {
        return c.getTextContent().trim();
      }
    }
    return otherwise;
  }

  @Test
  void everyCompileOrRuntimeDependencyButSlf4jShouldBeOptional() throws Exception {
    Path pom = Path.of("pom.xml");
    assertTrue(Files.isRegularFile(pom), "run from the project directory");
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    Document doc = factory.newDocumentBuilder().parse(pom.toFile());
    Element project = doc.getDocumentElement();
    List<String> nonOptional = new ArrayList<>();
    List<String> optional = new ArrayList<>();
    for (Node n = project.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (!(n instanceof Element e) || !e.getTagName().equals("dependencies")) {
        continue;
      }
      NodeList deps = e.getElementsByTagName("dependency");
      for (int i = 0; i < deps.getLength(); i++) {
        Element dep = (Element) deps.item(i);
        String scope = child(dep, "scope", "compile");
        if (!scope.equals("compile") && !scope.equals("runtime")) {
          continue;
        }
        String id = child(dep, "groupId", "?") + ":" + child(dep, "artifactId", "?");
        if (child(dep, "optional", "false").equals("true")) {
          optional.add(id);
        } else {
          nonOptional.add(id);
        }
      }
    }
    assertEquals(List.of("org.slf4j:slf4j-api"), nonOptional);
    assertEquals(List.of("info.picocli:picocli", "ch.qos.logback:logback-classic"), optional);
  }
}
