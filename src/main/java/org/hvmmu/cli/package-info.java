/**
 * The command-line front end, built on picocli: {@code hvmmu demo} (the default), {@code hvmmu
 * replay FILE} and {@code hvmmu inspect}; the only package that prints or exits. Not exported. Run
 * it with {@code mvn -q compile exec:java} or as the shaded jar {@code
 * target/hvmmu-VERSION-cli.jar}, which holds the library, picocli and Logback (both optional
 * dependencies of the library, so its users inherit neither). The bundled scenario scripts live
 * in {@code org/hvmmu/cli/scenarios/}.
 */
package org.hvmmu.cli;
