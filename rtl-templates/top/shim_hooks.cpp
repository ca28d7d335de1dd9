// Stops and printing of a Verilated model inside a ttfs-hdl shim (included
// by cosim_shim.cpp and board_sim.cpp inside their anonymous namespace,
// after their `Sim`, which has a `bool stopped`).
// A Verilated model's $fatal, $stop, $finish or runtime error (a malformed
// $readmemh image, say). Verilator's own handlers print and abort() the
// whole process; the build defines VL_USER_FATAL, VL_USER_STOP and
// VL_USER_FINISH so that the handlers below throw this instead, and every
// entry point of the C interface catches it, records the message and
// returns an error code (the model is not used again).
struct Stopped {
    std::string message;
};

// The message of the last caught stop on this thread (ttfs_error).
thread_local std::string last_error;

// The last line the design printed on this thread (a $fatal prints its
// text, then stops).
thread_local std::string last_line;

std::string where(const char* filename, int linenum, const char* msg) {
    std::string text;
    if (filename && filename[0]) {
        text += filename;
        text += ":" + std::to_string(linenum) + ": ";
    }
    text += msg ? msg : "";
    if (!last_line.empty()) text += " (the design printed: " + last_line + ")";
    return text;
}

}  // namespace

// Verilator's VL_PRINTF (-DVL_PRINTF=ttfs_vl_printf): printed as before,
// its last non-empty line kept for a stop's message.
int ttfs_vl_printf(const char* format, ...) {
    va_list ap;
    va_start(ap, format);
    char buffer[1024];
    int n = vsnprintf(buffer, sizeof buffer, format, ap);
    va_end(ap);
    fputs(buffer, stdout);
    std::string text(buffer);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    size_t cut = text.rfind('\n');
    if (cut != std::string::npos) text = text.substr(cut + 1);
    if (!text.empty()) last_line = text;
    return n;
}

void vl_fatal(const char* filename, int linenum, const char* hier, const char* msg) {
    (void)hier;
    Verilated::threadContextp()->gotError(true);
    Verilated::threadContextp()->gotFinish(true);
    throw Stopped{where(filename, linenum, msg)};
}

void vl_stop(const char* filename, int linenum, const char* hier) {
    (void)hier;
    Verilated::threadContextp()->gotError(true);
    Verilated::threadContextp()->gotFinish(true);
    throw Stopped{where(filename, linenum, "Verilog $stop")};
}

void vl_finish(const char* filename, int linenum, const char* hier) {
    (void)hier;
    Verilated::threadContextp()->gotFinish(true);
    throw Stopped{where(filename, linenum, "Verilog $finish")};
}

namespace {

// Runs one entry point's body; a stop (or any C++ exception) becomes -3,
// its message kept for ttfs_error, and the model is marked stopped.
template <typename F>
int guarded(Sim* s, F body) {
    if (s && s->stopped) {
        last_error = "the model stopped earlier and cannot run again";
        return -3;
    }
    last_line.clear();
    try {
        return body();
    } catch (const Stopped& e) {
        last_error = e.message;
    } catch (const std::exception& e) {
        last_error = std::string("C++ exception in the model: ") + e.what();
    } catch (...) {
        last_error = "unknown C++ exception in the model";
    }
    if (s) s->stopped = true;
    return -3;
}
