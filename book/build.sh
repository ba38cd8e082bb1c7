#!/usr/bin/env bash
# 构建课本,并给它建中文搜索索引。它只是调用 `cargo run -p course -- book`,两者完全一样;
# 那个命令在 Windows 的 PowerShell 里也能用,也不需要 Python。
#
#   bash book/build.sh                  生成 book/book/html(含搜索索引)
#   bash book/build.sh --serve          生成以后在 http://127.0.0.1:3000/ 提供它(--open 再打开浏览器)
#
# 需要 mdbook、mdbook-mermaid 和 pagefind(安装方法见 README 的「读课本」)。构建的步骤,
# 以及为什么关掉 mdBook 自带的搜索、哪些页不进索引,见 tools/course/src/book/build.rs。
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet -p course -- book "$@"
