package org.hvmmu.fuzz;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * A fuzzing campaign: many generated inputs through one entry point, each bounded in time, each
 * outcome counted. An input either gives a result, or a documented error (an exception of one of
 * the types the entry point documents), or anything else; anything else, and a hang, fail the
 * campaign with the seed, the input's index and the input itself.
 *
 * <p>Sizes: the default build runs a seeded sample of each campaign; {@code mvn verify -Pfuzz}
 * sets {@value #PROPERTY} to {@code full} and runs the documented sizes. The seed is fixed per
 * campaign (so that the counts in {@code docs/robustness.md} are reproducible) unless {@code
 * -Dhvmmu.seed=...} gives another.
 *
 * <pre>{@code
 * Fuzz.Counts c = Fuzz.campaign("config spaces", Fuzz.size(20_000, 1_000_000))
 *     .documented(PciParseException.class)
 *     .run(ConfigSpaceFuzz::draw, bytes -> inspect(bytes));
 * }</pre>
 */
public final class Fuzz {
  /** The system property that selects the sizes: {@code sample} (default) or {@code full}. */
  public static final String PROPERTY = "hvmmu.fuzz";

  /** The time one input may take before the campaign calls it a hang. */
  public static final long DEFAULT_TIMEOUT_MILLIS = 10_000;

  private Fuzz() {}

  /**
   * Whether the full campaign runs ({@code -Pfuzz}).
   *
   * @return true under {@code -Dhvmmu.fuzz=full}
   */
  public static boolean full() {
    return "full".equals(System.getProperty(PROPERTY, "sample").trim());
  }

  /**
   * The number of inputs of a campaign.
   *
   * @param sample the default build's number
   * @param full the {@code -Pfuzz} number
   * @return one of them
   */
  public static int size(int sample, int full) {
    return full() ? full : sample;
  }

  /**
   * A campaign of {@code inputs} inputs.
   *
   * @param name the campaign's name, as counted and printed
   * @param inputs the number of inputs, at least 1
   * @return the campaign, to configure and run
   */
  public static Campaign campaign(String name, int inputs) {
    return new Campaign(name, inputs);
  }

  /** What one campaign saw. */
  public record Counts(String name, long seed, int inputs, int results,
      Map<String, Integer> documentedErrors) {
    /**
     * The number of inputs that ended in a documented error.
     *
     * @return the sum of {@link #documentedErrors()}
     */
    public int errors() {
      return documentedErrors.values().stream().mapToInt(Integer::intValue).sum();
    }

    @Override
    public String toString() {
      return "fuzz " + name + " (seed 0x" + Long.toHexString(seed) + "): " + inputs + " inputs, "
          + results + " results, " + errors() + " documented errors " + documentedErrors
          + ", 0 other, 0 hangs";
    }
  }

  /** A campaign being configured: its documented errors, time bound and seed. */
  public static final class Campaign {
    private final String name;
    private final int inputs;
    private List<Class<?>> documented = List.of();
    private long timeoutMillis = DEFAULT_TIMEOUT_MILLIS;
    private long seed;

    private Campaign(String name, int inputs) {
      this.name = Objects.requireNonNull(name, "name");
      if (inputs < 1) {
        throw new IllegalArgumentException("inputs: " + inputs + " (expected: at least 1)");
      }
      this.inputs = inputs;
      this.seed = name.hashCode() * 0x9E3779B97F4A7C15L;
      String given = System.getProperty("hvmmu.seed", "").trim();
      if (!given.isEmpty()) {
        this.seed = given.startsWith("0x") ? Long.parseUnsignedLong(given.substring(2), 16)
            : Long.parseLong(given);
      }
    }

    /**
     * The exception types the entry point documents for bad input; any other throwable fails the
     * campaign.
     *
     * @param types the types (subclasses count)
     * @return this campaign
     */
    public Campaign documented(Class<?>... types) {
      for (Class<?> c : types) {
        if (!Throwable.class.isAssignableFrom(c)) {
          throw new IllegalArgumentException(c + " is not a Throwable");
        }
      }
      this.documented = List.of(types);
      return this;
    }

    /**
     * The time bound of one input.
     *
     * @param millis milliseconds, at least 1
     * @return this campaign
     */
    public Campaign timeoutMillis(long millis) {
      this.timeoutMillis = millis;
      return this;
    }

    /**
     * Runs the campaign: input {@code k} is drawn from the {@code k}-th split of the seed's random
     * source and passed to {@code body} on a worker thread.
     *
     * @param generator draws an input from the random source it is given, and from nothing else
     * @param body the entry point under test; returns normally for a result
     * @param <T> the input type
     * @return the counts
     * @throws AssertionError for an undocumented throwable or a hang, naming the seed, the index
     *     and the input (its {@code toString}, cut to 2,000 characters)
     */
    public <T> Counts run(Function<SplittableRandom, T> generator, Body<T> body) {
      SplittableRandom root = new SplittableRandom(seed);
      Map<String, Integer> errors = new TreeMap<>();
      int results = 0;
      ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fuzz " + name);
        t.setDaemon(true); // a hung input must not keep the test JVM alive
        return t;
      });
      try {
        for (int k = 0; k < inputs; k++) {
          T input = generator.apply(root.split());
          Future<?> f = worker.submit(() -> {
            body.accept(input);
            return null;
          });
          try {
            f.get(timeoutMillis, TimeUnit.MILLISECONDS);
            results++;
          } catch (TimeoutException e) {
            f.cancel(true);
            throw new AssertionError(where(k, input) + ": no answer in " + timeoutMillis + " ms");
          } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (!isDocumented(cause)) {
              throw new AssertionError(where(k, input) + ": " + cause, cause);
            }
            errors.merge(cause.getClass().getSimpleName(), 1, Integer::sum);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
          }
        }
      } finally {
        worker.shutdownNow();
      }
      Counts counts = new Counts(name, seed, inputs, results, errors);
      System.out.println(counts);
      return counts;
    }

    private boolean isDocumented(Throwable t) {
      for (Class<?> c : documented) {
        if (c.isInstance(t)) {
          return true;
        }
      }
      return false;
    }

    private String where(int k, Object input) {
      String text = String.valueOf(input);
      if (text.length() > 2000) {
        text = text.substring(0, 2000) + "... (" + text.length() + " characters)";
      }
      return "fuzz " + name + ", seed 0x" + Long.toHexString(seed) + ", input " + k + " " + text;
    }
  }

  /**
   * The entry point under test.
   *
   * @param <T> the input type
   */
  @FunctionalInterface
  public interface Body<T> {
    /**
     * Runs one input.
     *
     * @param input the input
     * @throws Exception a documented error, or a defect
     */
    void accept(T input) throws Exception;
  }
}
