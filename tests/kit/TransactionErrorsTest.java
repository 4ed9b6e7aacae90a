package kit;

import kit.run.ScriptRunner;

import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TransactionAbortableException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The exactly-once files decide what to do with a transactional error through one small block (class Transactions,
 * KIP-1050's categories), copied word for word in each, like the Plumbing: this keeps the copies identical, and runs
 * every file's own copy (compiled alone with the file's imports) against the table of Kafka 4.4's exceptions.
 */
class TransactionErrorsTest {

    /** Every file that carries the block: the exactly-once scripts, their solutions and exercises, ZombieFencing, the notebooks' code. */
    static final List<String> FILES = List.of(
            "scripts/ProducerExactlyOnce.java", "scripts/ConsumerExactlyOnce.java",
            "solutions/ProducerExactlyOnce.java", "solutions/ConsumerExactlyOnce.java", "solutions/ZombieFencing.java",
            "exercises/ProducerExactlyOnce.java", "exercises/ConsumerExactlyOnce.java", "exercises/ZombieFencing.java",
            "notebooks/shared.jsh");

    static final String MARKER = "    // ---- erreurs des transactions (KIP-1050)";

    /** Each file's copy, compiled on its own: file → its Transactions class. */
    private static final Map<String, Class<?>> COPIES = new LinkedHashMap<>();

    static String block(String file) throws Exception {
        String text = Files.readString(ScriptRunner.root().resolve(file));
        int start = text.indexOf(MARKER);
        int classAt = text.indexOf("    static final class Transactions {", start);
        assertTrue(start >= 0 && classAt > start, file + " : bloc « erreurs des transactions » introuvable");
        return text.substring(start, text.indexOf("\n    }\n", classAt) + "\n    }\n".length());
    }

    @BeforeAll
    static void compileEveryCopy() throws Exception {
        Path dir = Files.createTempDirectory("copies-transactions-");
        List<Path> sources = new ArrayList<>();
        for (int i = 0; i < FILES.size(); i++) {
            String text = Files.readString(ScriptRunner.root().resolve(FILES.get(i)));
            // the file's own imports, so that a copy that lacks one of them fails here
            String imports = String.join("\n", text.lines().filter(l -> l.startsWith("import ")).toList());
            sources.add(Files.writeString(dir.resolve("Copy" + i + ".java"),
                    imports + "\npublic class Copy" + i + " {\n" + block(FILES.get(i)) + "}\n"));
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, null, null)) {
            boolean ok = javac.getTask(null, files, diagnostics, List.of("-classpath", System.getProperty("java.class.path"),
                    "-d", dir.toString(), "-proc:none"), null, files.getJavaFileObjectsFromPaths(sources)).call();
            assertTrue(ok, "les copies ne compilent pas : " + diagnostics.getDiagnostics());
        }
        URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, TransactionErrorsTest.class.getClassLoader());
        for (int i = 0; i < FILES.size(); i++) COPIES.put(FILES.get(i), loader.loadClass("Copy" + i + "$Transactions"));
    }

    @Test
    void everyExactlyOnceFile_carriesTheSameErrorBlock() throws Exception {
        String reference = block(FILES.get(0));
        for (String file : FILES) assertEquals(reference, block(file), file + " : le bloc des erreurs diffère de celui de " + FILES.get(0));
    }

    /** Kafka 4.4's exceptions, as a transactional call throws them, and what each copy must do. */
    @Test
    void everyCopy_decidesByKip1050Category() throws Exception {
        record Row(Supplier<Throwable> error, boolean committing, String action) { }
        List<Row> table = List.of(
                new Row(() -> new ProducerFencedException("écarté"), false, "STOP"),
                new Row(() -> new InvalidProducerEpochException("époque"), false, "STOP"),
                new Row(() -> new FencedInstanceIdException("instance"), false, "STOP"),
                new Row(() -> new AuthorizationException("droits"), false, "STOP"),
                new Row(() -> new TransactionalIdAuthorizationException("droits"), false, "STOP"),
                new Row(() -> new UnsupportedVersionException("version"), false, "STOP"),
                new Row(() -> new InvalidTxnStateException("état"), false, "STOP"),
                new Row(() -> new TransactionAbortableException("avortable"), false, "ABORT"),
                // a transactional producer of 4.4 treats it as abortable (TransactionManager.maybeTransitionToErrorState)
                new Row(() -> new OutOfOrderSequenceException("séquence"), false, "ABORT"),
                new Row(() -> new TimeoutException("délai"), true, "RETRY"),
                new Row(() -> new TimeoutException("délai"), false, "ABORT"),
                new Row(() -> new KafkaException("autre"), false, "ABORT"),
                new Row(() -> new KafkaException("autre"), true, "ABORT"),
                // a producer in an error state: commitTransaction throws a KafkaException whose cause is the real error
                new Row(() -> new KafkaException("Cannot execute transactional method because we are in an error state",
                        new ProducerFencedException("écarté")), true, "STOP"),
                new Row(() -> new KafkaException("Cannot execute transactional method because we are in an error state",
                        new TransactionAbortableException("Transaction Request was aborted after exhausting retries.",
                                new TimeoutException("délai"))), true, "ABORT"));
        for (Map.Entry<String, Class<?>> copy : COPIES.entrySet()) {
            Method decide = copy.getValue().getDeclaredMethod("decide", Throwable.class, boolean.class);
            decide.setAccessible(true);
            for (Row row : table) {
                Throwable error = row.error().get();
                String what = copy.getKey() + " : " + error + (error.getCause() != null ? " (cause " + error.getCause() + ")" : "")
                        + (row.committing() ? " sur commitTransaction" : "");
                assertEquals(row.action(), ((Enum<?>) decide.invoke(null, error, row.committing())).name(), what);
            }
        }
    }

    /** commitTransaction that times out is called again; after 5 tries the program stops, and never calls abortTransaction. */
    @Test
    void everyCopy_commitRetriesTimeouts_thenStopsWithoutAborting() throws Exception {
        for (Map.Entry<String, Class<?>> copy : COPIES.entrySet()) {
            Method commit = copy.getValue().getDeclaredMethod("commit", Producer.class);
            commit.setAccessible(true);
            // two timeouts, then the commit goes through
            Calls late = new Calls(2, new TimeoutException("délai"));
            commit.invoke(null, late.producer());
            assertEquals(3, late.commits.get(), copy.getKey() + " : rappeler commitTransaction après un délai dépassé");
            // always a timeout: 5 tries, then a French IllegalStateException, no abort
            Calls never = new Calls(Integer.MAX_VALUE, new TimeoutException("délai"));
            Throwable stop = thrown(commit, never.producer());
            assertInstanceOf(IllegalStateException.class, stop, copy.getKey());
            assertTrue(stop.getMessage().contains("sans avorter"), copy.getKey() + " : " + stop.getMessage());
            assertEquals(5, never.commits.get(), copy.getKey());
            assertEquals(0, never.aborts.get(), copy.getKey() + " : jamais abortTransaction() après un commit expiré");
            // fenced: thrown at once, for the caller to stop
            Calls fenced = new Calls(Integer.MAX_VALUE, new ProducerFencedException("écarté"));
            assertInstanceOf(ProducerFencedException.class, thrown(commit, fenced.producer()), copy.getKey());
            assertEquals(1, fenced.commits.get(), copy.getKey());
            assertEquals(0, fenced.aborts.get(), copy.getKey());
        }
    }

    private static Throwable thrown(Method m, Object arg) throws Exception {
        try {
            m.invoke(null, arg);
        } catch (InvocationTargetException e) {
            return e.getCause();
        }
        throw new AssertionError(m + " aurait dû lever une exception");
    }

    /** A Producer whose commitTransaction fails {@code failures} times with {@code error}; counts commits and aborts. */
    private static final class Calls {
        final AtomicInteger commits = new AtomicInteger();
        final AtomicInteger aborts = new AtomicInteger();
        private final int failures;
        private final RuntimeException error;

        Calls(int failures, RuntimeException error) {
            this.failures = failures;
            this.error = error;
        }

        Producer<?, ?> producer() {
            return (Producer<?, ?>) Proxy.newProxyInstance(Producer.class.getClassLoader(), new Class<?>[] {Producer.class}, (p, m, args) -> {
                switch (m.getName()) {
                    case "commitTransaction" -> {
                        if (commits.incrementAndGet() <= failures) throw error;
                        return null;
                    }
                    case "abortTransaction" -> {
                        aborts.incrementAndGet();
                        return null;
                    }
                    default -> throw new UnsupportedOperationException(m.getName());
                }
            });
        }
    }
}
