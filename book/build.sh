#!/usr/bin/env bash
# 构建课本,并给它建中文搜索索引。
#
#   bash book/build.sh            生成 book/book/html(含搜索索引)
#   bash book/build.sh --serve    生成以后在 http://127.0.0.1:3000 打开它(需要 python3)
#
# 需要 mdbook、mdbook-mermaid 和 pagefind(安装方法见 README)。
# mdBook 自带的搜索不会给中文分词,所以我们关掉它,用 Pagefind 给生成的 HTML 建索引
# (book/pagefind-search.js 把搜索框放进每一页)。`mdbook serve` 重新构建时会清掉索引,
# 写书时用它预览正文就好;要试搜索,用这个脚本。
set -euo pipefail
cd "$(dirname "$0")"

[ -f mermaid.min.js ] || mdbook-mermaid install . >/dev/null
mdbook build .

# 给一份副本建索引:去掉 print.html(整本书拼成一页)、index.html(第一章的复制)等,
# 免得同一段话在搜索结果里出现好几次。参考答案讲解(NN-*-answer.html)也不进索引:
# 搜一个词,不该把还没做完的学员直接带到答案上。索引写回真正的输出目录。
html=book/html
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
cp -r "$html/." "$copy/"
rm -f "$copy/print.html" "$copy/index.html" "$copy/404.html" "$copy/toc.html" "$copy"/*-answer.html
rm -rf "$html/pagefind"
pagefind --site "$copy" --output-path "$html/pagefind" --root-selector "#mdbook-content main"

if [ "${1:-}" = --serve ]; then
  echo "在浏览器里打开 http://127.0.0.1:3000 (Ctrl-C 结束)"
  python3 -m http.server 3000 --bind 127.0.0.1 --directory "$html"
fi
