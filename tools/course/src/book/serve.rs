//! 一个只用标准库的静态文件服务器,给构建好的课本用。
//!
//! 它只做读书需要的事:GET 和 HEAD;按扩展名给出 Content-Type;目录给它的 index.html;
//! 找不到的给 mdBook 生成的 404.html。每个连接一个线程,回答完一个请求就关闭连接
//! (`Connection: close`):在本机上读书,这点开销看不出来,代码却简单得多。
//! 真实项目中会用现成的 HTTP 库;为了读一本书,不值得给课程多加一串依赖。
//!
//! 只监听 127.0.0.1,请求的路径永远出不了书的目录(`..` 一律当作找不到)。

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result};

/// 一个连接这么久不说话(或者读不走回复),就关掉它,免得一个卡住的连接占着一个线程。
const IDLE: Duration = Duration::from_secs(30);

/// 请求头最多这么多字节;浏览器的请求头通常不到 2 KiB。
const MAX_HEAD: u64 = 16 * 1024;

/// 绑定好了、还没开始服务的服务器。
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    root: PathBuf,
}

impl Server {
    /// 在 127.0.0.1:`port` 上监听(`port` 是 0 时由系统挑),提供 `root` 目录里的文件。
    pub fn bind(port: u16, root: &Path) -> Result<Server> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).with_context(|| {
            format!("无法绑定 127.0.0.1:{port}(端口被占用时,用 -p 换一个,或者用 -p 0 让系统挑)")
        })?;
        let addr = listener.local_addr().context("读不到实际绑定的地址")?;
        Ok(Server {
            listener,
            addr,
            root: root.to_path_buf(),
        })
    }

    /// 实际绑定的地址(用 `-p 0` 时,端口是系统挑的)。
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// 一直服务下去,直到进程被结束(Ctrl-C)。
    pub fn run(self) -> Result<ExitCode> {
        let root = Arc::new(self.root);
        for stream in self.listener.incoming() {
            match stream {
                Ok(stream) => {
                    let root = Arc::clone(&root);
                    // 读书的人关掉标签页、浏览器取消一个请求,连接就断了:那不是错误,不用打印。
                    let spawned = thread::Builder::new().spawn(move || {
                        let _ = answer(stream, &root);
                    });
                    if let Err(err) = spawned {
                        eprintln!("警告: 无法为一个连接启动线程: {err}");
                    }
                }
                // 比如文件描述符暂时用光了:这一个连接不服务,服务器接着等下一个。
                Err(err) => eprintln!("警告: 接受连接失败: {err}"),
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// 读一个请求,回答它,然后关闭连接。
fn answer(stream: TcpStream, root: &Path) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE))?;
    stream.set_write_timeout(Some(IDLE))?;
    let mut head = BufReader::new(stream.try_clone()?.take(MAX_HEAD));
    let mut request_line = String::new();
    if head.read_line(&mut request_line)? == 0 {
        return Ok(());
    }
    // 请求头一直读到空行;里面的内容用不上(不支持 Range、缓存协商这些)。
    let mut line = String::new();
    loop {
        line.clear();
        if head.read_line(&mut line)? == 0 {
            // 请求头没有结束就断了,或者长得超过了 MAX_HEAD。
            return respond(&stream, Reply::text(400, "请求头不完整或者太长"), true);
        }
        if line.trim_end().is_empty() {
            break;
        }
    }
    let mut words = request_line.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let with_body = method != "HEAD";
    let reply = match method {
        "GET" | "HEAD" => Reply::for_target(target, root),
        _ => Reply::text(405, "这个服务器只提供文件:只认 GET 和 HEAD"),
    };
    respond(&stream, reply, with_body)
}

/// 要发回的回复。
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Body,
    location: Option<String>,
}

enum Body {
    Text(String),
    File(PathBuf),
}

impl Reply {
    fn text(status: u16, text: &str) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: Body::Text(format!("{text}\n")),
            location: None,
        }
    }

    fn file(status: u16, path: PathBuf) -> Reply {
        Reply {
            status,
            content_type: content_type(&path),
            body: Body::File(path),
            location: None,
        }
    }

    /// 对一个请求目标(`/04-tcp-server.html?q=粘包` 这样)的回复。
    fn for_target(target: &str, root: &Path) -> Reply {
        match resolve(target, root) {
            Resolved::File(path) => Reply::file(200, path),
            Resolved::Redirect(location) => Reply {
                location: Some(location),
                ..Reply::text(301, "这是一个目录,地址要以 / 结尾")
            },
            Resolved::BadRequest => Reply::text(400, "看不懂这个地址"),
            Resolved::NotFound => {
                let page = root.join("404.html");
                if page.is_file() {
                    Reply::file(404, page)
                } else {
                    Reply::text(404, "找不到这一页")
                }
            }
        }
    }
}

fn respond(mut stream: &TcpStream, reply: Reply, with_body: bool) -> io::Result<()> {
    let (mut file, length) = match &reply.body {
        Body::Text(text) => (None, text.len() as u64),
        Body::File(path) => {
            let file = File::open(path)?;
            let length = file.metadata()?.len();
            (Some(file), length)
        }
    };
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {length}\r\n\
         Cache-Control: no-cache\r\nConnection: close\r\n",
        reply.status,
        reason(reply.status),
        reply.content_type
    );
    if let Some(location) = &reply.location {
        head.push_str(&format!("Location: {location}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if with_body {
        match (&reply.body, &mut file) {
            (_, Some(file)) => {
                io::copy(file, &mut stream)?;
            }
            (Body::Text(text), None) => stream.write_all(text.as_bytes())?,
            (Body::File(_), None) => {}
        }
    }
    stream.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "",
    }
}

/// 一个请求目标对应什么。
#[derive(Debug, PartialEq)]
enum Resolved {
    File(PathBuf),
    /// 目录的地址没有以 `/` 结尾:让浏览器换成带 `/` 的,页面里的相对链接才对。
    Redirect(String),
    NotFound,
    BadRequest,
}

/// 把请求目标变成 `root` 里的一个文件。`?` 和 `#` 后面的部分不管;`%E7%B2%98` 这样的编码先解开;
/// `..`、反斜杠和盘符(`C:`)一律当作找不到,所以永远出不了 `root`。
fn resolve(target: &str, root: &Path) -> Resolved {
    let raw = target.split(['?', '#']).next().unwrap_or("");
    let Some(path) = percent_decode(raw) else {
        return Resolved::BadRequest;
    };
    if !path.starts_with('/') {
        return Resolved::BadRequest;
    }
    let mut file = root.to_path_buf();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Resolved::NotFound,
            s if s.contains(['\\', ':', '\0']) => return Resolved::NotFound,
            s => file.push(s),
        }
    }
    if file.is_dir() {
        if !raw.ends_with('/') {
            return Resolved::Redirect(format!("{raw}/"));
        }
        file.push("index.html");
    }
    if file.is_file() {
        Resolved::File(file)
    } else {
        Resolved::NotFound
    }
}

/// 解开 URL 里的 `%XX`;解出来不是 UTF-8,或者 `%` 后面不是两位十六进制数字时,返回 None。
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// 按扩展名决定 Content-Type。Pagefind 的索引文件(.pf_meta、.pf_fragment……)由它自己的
/// 脚本读取、解压,用通用的二进制类型就行。
fn content_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "txt" | "md" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::TempDir;
    use std::fs;

    fn book() -> TempDir {
        let dir = TempDir::new("serve-test").unwrap();
        fs::write(dir.0.join("index.html"), "首页").unwrap();
        fs::write(dir.0.join("04-tcp-server.html"), "第 4 课").unwrap();
        fs::create_dir(dir.0.join("pagefind")).unwrap();
        fs::write(dir.0.join("pagefind/index.html"), "").unwrap();
        fs::write(dir.0.join("pagefind/pagefind.js"), "").unwrap();
        dir
    }

    /// 地址变成书里的文件:查询串不管,编码解开,目录给 index.html。
    #[test]
    fn a_target_names_a_file_in_the_book() {
        let book = book();
        let root = &book.0;
        for (target, file) in [
            ("/", "index.html"),
            ("/04-tcp-server.html", "04-tcp-server.html"),
            (
                "/04-tcp-server.html?q=%E7%B2%98%E5%8C%85",
                "04-tcp-server.html",
            ),
            ("/04-tcp-server.html#粘包和拆包", "04-tcp-server.html"),
            ("/%30%34-tcp-server.html", "04-tcp-server.html"),
            ("/pagefind/pagefind.js", "pagefind/pagefind.js"),
            ("/pagefind/", "pagefind/index.html"),
            ("/./pagefind//pagefind.js", "pagefind/pagefind.js"),
        ] {
            assert_eq!(
                resolve(target, root),
                Resolved::File(root.join(file)),
                "{target}"
            );
        }
        assert_eq!(
            resolve("/pagefind?x=1", root),
            Resolved::Redirect("/pagefind/".into())
        );
    }

    /// `..`、反斜杠、盘符和编码过的 `..` 都出不了书的目录;坏的编码是坏请求。
    #[test]
    fn no_target_leaves_the_book() {
        let book = book();
        let root = &book.0.join("pagefind");
        for target in [
            "/../index.html",
            "/%2e%2e/index.html",
            "/%2E%2E%2Findex.html",
            "/..\\index.html",
            "/C:/Windows/win.ini",
            "/missing.html",
        ] {
            assert_eq!(resolve(target, root), Resolved::NotFound, "{target}");
        }
        for target in ["index.html", "/%zz", "/%e7%b2", "/%"] {
            assert_eq!(resolve(target, root), Resolved::BadRequest, "{target}");
        }
    }

    /// 浏览器按 Content-Type 决定怎样用一个文件:网页、样式、脚本、字体、图都要对。
    #[test]
    fn content_types_follow_the_extension() {
        for (file, wanted) in [
            ("a.html", "text/html; charset=utf-8"),
            ("b.CSS", "text/css; charset=utf-8"),
            ("mermaid.min.js", "text/javascript; charset=utf-8"),
            ("fonts/x.woff2", "font/woff2"),
            ("favicon.svg", "image/svg+xml"),
            ("pagefind/wasm.unknown.pagefind", "application/octet-stream"),
            (
                "pagefind/fragment/zh_1.pf_fragment",
                "application/octet-stream",
            ),
        ] {
            assert_eq!(content_type(Path::new(file)), wanted, "{file}");
        }
    }
}
