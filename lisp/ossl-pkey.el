;;; ossl-pkey.el --- Public keys, signatures, envelopes and PEM for ossl  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The ossl developers

;; Author: The ossl developers

;; This program is free software; you can redistribute it and/or modify
;; it under the terms of the GNU General Public License as published by
;; the Free Software Foundation, either version 3 of the License, or
;; (at your option) any later version.

;; This program is distributed in the hope that it will be useful,
;; but WITHOUT ANY WARRANTY; without even the implied warranty of
;; MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
;; GNU General Public License for more details.

;; You should have received a copy of the GNU General Public License
;; along with this program.  If not, see <https://www.gnu.org/licenses/>.

;;; Commentary:

;; The SXEmacs OpenSSL public-key API (issue 16): key objects, key
;; generation, signatures, envelopes, PEM and DER.  Shares the
;; conventions of ossl-crypto.el.
;;
;; This file is loaded by ossl.el once the module is in.

;;; Code:

(require 'ossl-crypto)

(provide 'ossl-pkey)

;;; ossl-pkey.el ends here
