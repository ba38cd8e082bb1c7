//! 评分器用完的套接字先不关:再占着它的端口一会儿,直到被测程序肯定已经结束。
//!
//! 一项检查里,评分器的套接字随检查函数一起结束,被测程序却还要活一小会儿:没通过的检查
//! 先让程序把话说完(见 `program::Reaper`),机器很忙时程序也可能慢半拍。这期间程序发给
//! 评分器的数据报,如果端口已经关了,就成了「无主」的数据报。系统很快会把这个端口分给别人,
//! 很可能正是同时在运行的另一项检查:那一项会收到一个莫名其妙的数据报(或者一个莫名其妙的
//! 连接),把别人的错算到自己的程序头上。
//!
//! 所以用完的套接字停在这里,[`HOLD`] 之后才真正关闭:端口一直有主,迟到的数据报
//! 落进一个没人再读的接收队列,迟到的连接排在一个没人再 accept 的队列里,谁也不打扰。

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::grader::scaled;

/// 停多久:比一项检查的程序在它的套接字关闭之后还能活的时间(让它说完话的 1 秒,
/// 加上结束它的时间)长得多。
const HOLD: Duration = Duration::from_secs(5);

type Parked = (Instant, Box<dyn Send>);

static LOT: Mutex<VecDeque<Parked>> = Mutex::new(VecDeque::new());

/// 把一个用完的套接字(或者它的一个副本)停在这里;顺便关掉停够了的。
pub(crate) fn park(socket: impl Send + 'static) {
    let now = Instant::now();
    let mut lot = LOT.lock().unwrap_or_else(PoisonError::into_inner);
    while lot
        .front()
        .is_some_and(|(since, _)| now.saturating_duration_since(*since) > scaled(HOLD))
    {
        lot.pop_front();
    }
    lot.push_back((now, Box::new(socket)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;

    /// 停着的套接字还占着端口:别人绑不上它,发给它的数据报也不会落到别人手里。
    #[test]
    fn a_parked_socket_keeps_its_port() {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        park(socket);
        assert!(
            UdpSocket::bind(addr).is_err(),
            "停着的套接字应该还占着 {addr}"
        );
    }
}
