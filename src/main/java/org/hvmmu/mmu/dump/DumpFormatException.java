package org.hvmmu.mmu.dump;

/**
 * A guest dump could not be loaded: the file is missing, unreadable or not a regular file, its
 * bytes are not a well-formed ELF core or raw image, or it does not fit the limits of {@link
 * DumpOptions}. This is the only exception the readers of this package throw for a bad file; the
 * message names the file, the byte offset (when the problem is at one) and what was expected:
 *
 * <pre>{@code
 * core.elf at offset 0x36: e_phentsize 0x20 (expected: 0x38, the size of an Elf64_Phdr)
 * }</pre>
 *
 * <p>For a gzip-compressed file the offset is in the decompressed bytes. Failures of the file
 * system carry the {@link java.io.IOException} as the cause; a core whose data exceed the frame
 * budget carries the {@link org.hvmmu.mmu.memory.MemoryBudgetExceededException}.
 */
public final class DumpFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The {@link #offset()} of problems that are not at one byte offset (the file as a whole). */
  public static final long NO_OFFSET = -1;

  private final String file;
  private final long offset;
  private final String problem;

  /**
   * Creates the exception.
   *
   * @param file the file, as the user named it
   * @param offset the byte offset of the problem, or {@link #NO_OFFSET}
   * @param problem what is wrong and what was expected, with values in hex
   */
  public DumpFormatException(String file, long offset, String problem) {
    this(file, offset, problem, null);
  }

  /**
   * Creates the exception with a cause.
   *
   * @param file the file, as the user named it
   * @param offset the byte offset of the problem, or {@link #NO_OFFSET}
   * @param problem what is wrong and what was expected, with values in hex
   * @param cause the underlying failure, or null
   */
  public DumpFormatException(String file, long offset, String problem, Throwable cause) {
    super(
        file
            + (offset == NO_OFFSET ? "" : " at offset 0x" + Long.toHexString(offset))
            + ": "
            + problem,
        cause);
    this.file = file;
    this.offset = offset;
    this.problem = problem;
  }

  /**
   * The file named in the message.
   *
   * @return the file name
   */
  public String file() {
    return file;
  }

  /**
   * The byte offset named in the message; in the decompressed bytes for a gzip file.
   *
   * @return the offset, or {@link #NO_OFFSET}
   */
  public long offset() {
    return offset;
  }

  /**
   * The message without the file and offset.
   *
   * @return what is wrong and what was expected
   */
  public String problem() {
    return problem;
  }
}
