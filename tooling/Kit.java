///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES kit/*.java kit/**/*.java
//FILES kit/lab/page/index.html=kit/lab/page/index.html
//FILES kit/lab/page/lab.css=kit/lab/page/lab.css
//FILES kit/lab/page/lab.js=kit/lab/page/lab.js

import kit.KitCommand;
import picocli.CommandLine;

/** Entry point of the kit's tooling: ./jbang broker | tour | grade | bench | kernel (see jbang-catalog.json). */
public class Kit {
    public static void main(String... args) {
        System.exit(KitCommand.run(args));
    }
}
