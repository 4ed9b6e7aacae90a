package kit;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The six scripts must stay self-contained (only //DEPS), so each carries the same small Plumbing class
 * (options, broker check, Ctrl-C, crash). This keeps the six copies identical: change one, change all.
 */
class ScriptPlumbingTest {

    private static final List<String> SCRIPTS = List.of("ProducerAtMostOnce", "ProducerAtLeastOnce", "ProducerExactlyOnce",
            "ConsumerAtMostOnce", "ConsumerAtLeastOnce", "ConsumerExactlyOnce");

    @Test
    void everyScript_carriesTheSamePlumbing_andOnlyDeps() throws Exception {
        String reference = null;
        for (String name : SCRIPTS) {
            String text = Files.readString(ScriptRunner.root().resolve(Path.of("scripts", name + ".java")));
            int start = text.indexOf("    /** Options, broker check, Ctrl-C and crash");
            assertTrue(start > 0, name + " : bloc de plomberie introuvable");
            String plumbing = text.substring(start);
            if (reference == null) reference = plumbing;
            assertEquals(reference, plumbing, name + " : la plomberie diffère de celle de " + SCRIPTS.get(0));
            assertTrue(!text.contains("//SOURCES") && text.startsWith("///usr/bin/env jbang"), name + " : script autonome attendu");
        }
    }
}
