/**
 * The command-line front end: the only package that prints or exits. Not exported; run it with {@code
 * mvn -q compile exec:java}.
 */
package org.hvmmu.cli;
