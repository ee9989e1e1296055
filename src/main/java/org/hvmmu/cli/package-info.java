/**
 * The command-line front end, {@code hvmmu inspect} (the default) and {@code hvmmu demo}, built on
 * picocli: the only package that prints or exits. Not exported. Run it with {@code mvn -q compile
 * exec:java} or as the shaded jar {@code target/hvmmu-VERSION-cli.jar}, which holds the library,
 * picocli and Logback (both optional dependencies of the library, so its users inherit neither).
 */
package org.hvmmu.cli;
