package kit.util;

/** Turning an exception chain into the one line a user reads. */
public final class Errors {

    private Errors() { }

    /** The innermost cause, as "Type: message". */
    public static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }
}
