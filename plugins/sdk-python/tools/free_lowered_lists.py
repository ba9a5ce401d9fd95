"""Makes a component built by componentize-py 0.25.1 free the byte lists it
hands out (issue 16); run by scripts/build-plugins-python.sh on every
Python plugin it builds.

Why: componentize-py 0.25.1 lowers a Python value through wit-dylib's
adapter (the core module that imports `wit_dylib_pop_list` from the
runtime). For a `list<u8>` the runtime's `maybe_pop_list` copies the
`bytes` into a fresh allocation and returns its address; the adapter then
stores that address in the result and, unlike its element-by-element path
for every other list, never registers it for deallocation. wit-dylib's
contract is that memory returned this way stays owned by the interpreter's
call context (its own test interpreter keeps the bytes there), but the
runtime's `maybe_pop_list` forgets the allocation. So every payload a
transform returns (`edit.payload`, a split message's payload) stayed in the
guest's heap for good, and every value passed to `kv.set` too: an echoing
transform exhausted 16 MiB after 1,755 messages of 4 KiB. The host is not
at fault: wasmtime calls the export's post-return after every call, and it
frees what the call context holds.

What: at every `wit_dylib_pop_list` call in the adapter, when the returned
address is not null (only a byte list's is), the patch inserts the call
the adapter's own path makes for the lists it allocates itself:
`wit_dylib_dealloc_bytes(cx, ptr, len, 1, defer=1)`. The allocation is then
freed with the call context, after the host has read the result (an
export's post-return) or after the import returned. Only the adapter's code
section changes; every other byte of the component is kept.

The adapter is generated code of one fixed shape; a call site of another
shape, or an instruction this decoder does not know, stops the build
rather than guess. Remove this pass when componentize-py frees those lists
itself (a fixed runtime plus this patch would free them twice): the build
script runs it for 0.25.1 only, and
tests/integration/plugins_polyglot.rs
(`python_returned_payloads_are_freed_between_calls`) tells whether a new
version still needs it.

Usage: python3 free_lowered_lists.py COMPONENT.wasm   (rewritten in place)
"""

import sys

POP_LIST = "wit_dylib_pop_list"
DEALLOC_BYTES = "wit_dylib_dealloc_bytes"

# Opcodes of the instructions the pattern is made of.
IF, END, CALL = 0x04, 0x0B, 0x10
LOCAL_GET, LOCAL_SET = 0x20, 0x21
I32_LOAD, I32_CONST, I32_EQZ, I32_ADD = 0x28, 0x41, 0x45, 0x6A
EMPTY_BLOCK = 0x40

# Value types a local or a block may have (numbers, v128, funcref,
# externref); GC reference types would need more decoding than this.
VALTYPES = {0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F}


class PatchError(Exception):
    """The component is not one this patch understands."""


def read_u(data: bytes, pos: int) -> tuple[int, int]:
    """An unsigned LEB128 at `pos`: (value, position after it)."""
    value = shift = 0
    while True:
        if pos >= len(data):
            raise PatchError("truncated LEB128")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def skip_s(data: bytes, pos: int) -> int:
    """Skips a signed LEB128 (the value is never needed)."""
    while True:
        if pos >= len(data):
            raise PatchError("truncated LEB128")
        byte = data[pos]
        pos += 1
        if byte < 0x80:
            return pos


def write_u(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def sections(data: bytes, pos: int):
    """(id, header start, content start, end) of each section from `pos` to
    the end of `data`. The header is kept to copy a section byte for byte:
    its size may be a padded LEB128."""
    while pos < len(data):
        sid = data[pos]
        size, start = read_u(data, pos + 1)
        end = start + size
        if end > len(data):
            raise PatchError(f"section {sid} runs past the end")
        yield sid, pos, start, end
        pos = end


def section(sid: int, content: bytes) -> bytes:
    return bytes([sid]) + write_u(len(content)) + content


def read_name(data: bytes, pos: int) -> tuple[str, int]:
    size, pos = read_u(data, pos)
    return data[pos : pos + size].decode("utf-8", "replace"), pos + size


def skip_limits(data: bytes, pos: int) -> int:
    flags = data[pos]
    _, pos = read_u(data, pos + 1)
    if flags & 1:
        _, pos = read_u(data, pos)
    return pos


def imported_funcs(data: bytes, start: int, end: int) -> dict[str, int]:
    """Function index of each function the module imports from `env`."""
    count, pos = read_u(data, start)
    funcs: dict[str, int] = {}
    index = 0
    for _ in range(count):
        module, pos = read_name(data, pos)
        name, pos = read_name(data, pos)
        kind = data[pos]
        pos += 1
        if kind == 0x00:  # function: type index
            _, pos = read_u(data, pos)
            if module == "env":
                funcs[name] = index
            index += 1
        elif kind == 0x01:  # table: reference type, limits
            if data[pos] not in VALTYPES:
                raise PatchError(f"import `{module}.{name}`: unknown table type")
            pos = skip_limits(data, pos + 1)
        elif kind == 0x02:  # memory: limits
            pos = skip_limits(data, pos)
        elif kind == 0x03:  # global: value type, mutability
            if data[pos] not in VALTYPES:
                raise PatchError(f"import `{module}.{name}`: unknown global type")
            pos += 2
        elif kind == 0x04:  # tag: attribute, type index
            _, pos = read_u(data, pos + 1)
        else:
            raise PatchError(f"import `{module}.{name}`: unknown kind {kind}")
    if pos != end:
        raise PatchError("import section: size does not match its entries")
    return funcs


def skip_blocktype(code: bytes, pos: int) -> int:
    if code[pos] == EMPTY_BLOCK or code[pos] in VALTYPES:
        return pos + 1
    return skip_s(code, pos)  # a type index


def skip_memarg(code: bytes, pos: int) -> int:
    align, pos = read_u(code, pos)
    if align & 0x40:  # multi-memory: a memory index follows
        _, pos = read_u(code, pos)
    _, pos = read_u(code, pos)  # offset
    return pos


# 0xFC-prefixed instructions by sub-opcode: how many u32 immediates follow.
FC_IMMEDIATES = {0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 2, 9: 1}
FC_IMMEDIATES.update({10: 2, 11: 1, 12: 2, 13: 1, 14: 2, 15: 1, 16: 1, 17: 1})


def decode(code: bytes, pos: int, end: int) -> list[tuple[int, int, int, int]]:
    """The instructions of a function body's expression: (opcode, first
    immediate or 0, start, end) each."""
    out = []
    while pos < end:
        start = pos
        op = code[pos]
        pos += 1
        imm = 0
        if op in (0x02, 0x03, IF):  # block, loop, if
            pos = skip_blocktype(code, pos)
        elif op in (0x0C, 0x0D, CALL, 0x12, 0xD2) or 0x20 <= op <= 0x26:
            # br, br_if, call, return_call, ref.func; local.*, global.*,
            # table.get/set: one index
            imm, pos = read_u(code, pos)
        elif op == 0x0E:  # br_table
            count, pos = read_u(code, pos)
            for _ in range(count + 1):
                _, pos = read_u(code, pos)
        elif op in (0x11, 0x13):  # call_indirect, return_call_indirect
            _, pos = read_u(code, pos)
            _, pos = read_u(code, pos)
        elif op == 0x1C:  # select with types
            count, pos = read_u(code, pos)
            pos += count
        elif 0x28 <= op <= 0x3E:  # loads and stores
            pos = skip_memarg(code, pos)
        elif op in (0x3F, 0x40):  # memory.size, memory.grow
            _, pos = read_u(code, pos)
        elif op in (I32_CONST, 0x42):
            pos = skip_s(code, pos)
        elif op == 0x43:
            pos += 4
        elif op == 0x44:
            pos += 8
        elif op == 0xD0:  # ref.null
            if code[pos] not in VALTYPES:
                raise PatchError(f"unknown heap type at code offset {start}")
            pos += 1
        elif op == 0xFC:
            sub, pos = read_u(code, pos)
            if sub not in FC_IMMEDIATES:
                raise PatchError(f"unknown instruction 0xfc {sub} at code offset {start}")
            for _ in range(FC_IMMEDIATES[sub]):
                _, pos = read_u(code, pos)
        elif op in (0x00, 0x01, 0x05, END, 0x0F, 0x1A, 0x1B, 0xD1) or 0x45 <= op <= 0xC4:
            pass  # no immediates
        else:
            raise PatchError(f"unknown instruction 0x{op:02x} at code offset {start}")
        out.append((op, imm, start, pos))
    if pos != end:
        raise PatchError("function body: instructions run past its end")
    return out


def deferral(ctx: int, ptr: int, length: int, dealloc: int) -> bytes:
    """`if ptr { wit_dylib_dealloc_bytes(ctx, ptr, length, 1, 1) }`."""
    return b"".join(
        [
            bytes([LOCAL_GET]) + write_u(ptr),
            bytes([IF, EMPTY_BLOCK]),
            bytes([LOCAL_GET]) + write_u(ctx),
            bytes([LOCAL_GET]) + write_u(ptr),
            bytes([LOCAL_GET]) + write_u(length),
            bytes([I32_CONST, 1, I32_CONST, 1]),
            bytes([CALL]) + write_u(dealloc),
            bytes([END]),
        ]
    )


def patch_body(body: bytes, pop_list: int, dealloc: int) -> tuple[bytes, int]:
    """The function body with a deferral after every `wit_dylib_pop_list`
    call whose list came back as an address, and how many it got."""
    locals_count, pos = read_u(body, 0)
    for _ in range(locals_count):
        _, pos = read_u(body, pos)
        if body[pos] not in VALTYPES:
            raise PatchError("function body: unknown local type")
        pos += 1
    ins = decode(body, pos, len(body))
    raw = [body[s:e] for _, _, s, e in ins]
    inserts: list[tuple[int, bytes]] = []
    for k, (op, imm, start, _) in enumerate(ins):
        if op != CALL or imm != pop_list:
            continue

        def bad(why: str) -> PatchError:
            return PatchError(
                f"the `{POP_LIST}` call at body offset {start} has an unknown shape ({why})"
            )

        # Arguments: local.get CTX; i32.const TYPE; ADDR where ADDR, the
        # stack slot the address is written to, is `local.get B` or
        # `local.get B; i32.const OFF; i32.add`.
        addr_len = 3 if k >= 1 and ins[k - 1][0] == I32_ADD else 1
        a = k - addr_len
        if a < 2 or ins[a][0] != LOCAL_GET or ins[a - 1][0] != I32_CONST:
            raise bad("arguments")
        if ins[a - 2][0] != LOCAL_GET:
            raise bad("context argument")
        if addr_len == 3 and ins[a + 1][0] != I32_CONST:
            raise bad("address argument")
        ctx = ins[a - 2][1]
        # Then: local.set LEN; ADDR; i32.load; local.set PTR;
        # local.get PTR; i32.eqz; if (the element-by-element path).
        j = k + 1
        shape = ins[j : j + addr_len + 6]
        if len(shape) < addr_len + 6 or shape[0][0] != LOCAL_SET:
            raise bad("length")
        length = shape[0][1]
        if raw[j + 1 : j + 1 + addr_len] != raw[a:k]:
            raise bad("address reload")
        load, set_ptr, get_ptr, eqz, if_ = shape[1 + addr_len :]
        if load[0] != I32_LOAD or set_ptr[0] != LOCAL_SET:
            raise bad("address load")
        ptr = set_ptr[1]
        if ctx in (length, ptr):
            raise bad("the context's local is overwritten")
        patch = deferral(ctx, ptr, length, dealloc)
        after = set_ptr[3]
        if body[after : after + len(patch)] == patch:
            # A second pass would free each list twice.
            raise PatchError("already patched")
        if (get_ptr[0], get_ptr[1], eqz[0], if_[0]) != (LOCAL_GET, ptr, I32_EQZ, IF):
            raise bad("null check")
        inserts.append((after, patch))
    if not inserts:
        return body, 0
    out = bytearray()
    last = 0
    for at, patch in inserts:
        out += body[last:at] + patch
        last = at
    out += body[last:]
    return bytes(out), len(inserts)


def patch_module(module: bytes) -> tuple[bytes, int] | None:
    """The module with every `wit_dylib_pop_list` call site patched, and
    how many there were; None for a module that is not the adapter (does
    not import both functions)."""
    if module[:8] != b"\0asm\x01\0\0\0":
        raise PatchError("not a core module")
    parts = list(sections(module, 8))
    funcs: dict[str, int] = {}
    for sid, _, start, end in parts:
        if sid == 2:
            funcs = imported_funcs(module, start, end)
    if POP_LIST not in funcs or DEALLOC_BYTES not in funcs:
        return None
    out = bytearray(module[:8])
    patched = 0
    for sid, header, start, end in parts:
        if sid != 10:
            out += module[header:end]
            continue
        count, pos = read_u(module, start)
        bodies = bytearray(module[start:pos])
        for _ in range(count):
            entry = pos
            size, pos = read_u(module, pos)
            body, n = patch_body(module[pos : pos + size], funcs[POP_LIST], funcs[DEALLOC_BYTES])
            pos += size
            # An unchanged body keeps its size's encoding too.
            bodies += write_u(len(body)) + body if n else module[entry:pos]
            patched += n
        if pos != end:
            raise PatchError("code section: size does not match its bodies")
        out += section(10, bytes(bodies))
    return (bytes(out) if patched else module), patched


def patch_component(component: bytes) -> tuple[bytes, int]:
    """The component with its wit-dylib adapter patched, and the number of
    call sites patched. Exactly one top-level core module must be the
    adapter."""
    if component[:8] != b"\0asm\x0d\0\x01\0":
        raise PatchError("not a component (core module or another layer version)")
    out = bytearray(component[:8])
    adapters = patched = 0
    for sid, header, start, end in sections(component, 8):
        adapter = patch_module(component[start:end]) if sid == 1 else None
        if adapter is None:
            out += component[header:end]
            continue
        module, n = adapter
        adapters += 1
        patched += n
        out += section(1, module)
    if adapters != 1:
        raise PatchError(f"expected one wit-dylib adapter module, found {adapters}")
    return bytes(out), patched


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: free_lowered_lists.py COMPONENT.wasm", file=sys.stderr)
        return 2
    path = argv[1]
    try:
        with open(path, "rb") as f:
            component = f.read()
        patched, _ = patch_component(component)
    except (OSError, PatchError) as e:
        print(f"free_lowered_lists.py: {path}: {e}", file=sys.stderr)
        return 1
    with open(path, "wb") as f:
        f.write(patched)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
